from django.core.management.base import BaseCommand

from demo.build import DEMO_PASSWORD, DEMO_SLUG, DEMO_USERS, demo_build


class Command(BaseCommand):
    help = "Build (or rebuild) the demo review, slug 'demo', with its team and data."

    def handle(self, *args, **options):
        review = demo_build()
        self.stdout.write(
            self.style.SUCCESS(f"Demo review '{review.title}' at /reviews/{DEMO_SLUG}/")
        )
        for username, _, _, roles in DEMO_USERS:
            self.stdout.write(f"  log in as {username} / {DEMO_PASSWORD}  ({', '.join(roles)})")
