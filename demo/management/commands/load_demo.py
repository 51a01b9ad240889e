from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from demo.bcg import BCG_SLUG, demo_bcg_build
from demo.build import DEMO_PASSWORD, DEMO_SLUG, DEMO_USERS, demo_build
from demo.ranking import RANKING_SLUG, demo_ranking_build


class Command(BaseCommand):
    help = (
        "Build (or rebuild) the demo reviews, slugs 'demo', 'demo-bcg' and 'demo-ranking', "
        "with their team and data."
    )

    def handle(self, *args, **options):
        review = demo_build()
        self.stdout.write(
            self.style.SUCCESS(f"Demo review '{review.title}' at /reviews/{DEMO_SLUG}/")
        )
        # The second demo review: real trial data, extracted and finalised (issue 16).
        people = {
            u.username: u
            for u in get_user_model().objects.filter(username__in=[u[0] for u in DEMO_USERS])
        }
        bcg = demo_bcg_build(people)
        self.stdout.write(self.style.SUCCESS(f"Demo review '{bcg.title}' at /reviews/{BCG_SLUG}/"))
        # The third: prioritised screening under way, its queue ranked (issue 15).
        ranking = demo_ranking_build(people)
        self.stdout.write(
            self.style.SUCCESS(f"Demo review '{ranking.title}' at /reviews/{RANKING_SLUG}/")
        )
        for username, _, _, roles in DEMO_USERS:
            self.stdout.write(f"  log in as {username} / {DEMO_PASSWORD}  ({', '.join(roles)})")
