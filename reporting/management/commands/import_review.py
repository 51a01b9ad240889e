"""Create a review from an archive made by export_review."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reporting.archive import review_import


class Command(BaseCommand):
    help = (
        "Import a review archive (zip) as a new review. Its people get no account and no "
        "membership: each is kept as a name unless --map maps them to an account."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", metavar="FILE.zip")
        parser.add_argument(
            "--slug",
            default=None,
            help="address of the new review (default: the archive's own, if free and valid)",
        )
        parser.add_argument(
            "--user", default=None, help="who imports: the new review's only member, as lead"
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="PERSON=ACCOUNT",
            help="attribute what PERSON (a username in the archive) did to ACCOUNT (a username "
            "or e-mail here); repeatable",
        )

    def handle(self, *args, **opts):
        actor = None
        if opts["user"]:
            actor = get_user_model().objects.filter(username=opts["user"]).first()
            if actor is None:
                raise CommandError(f"No user {opts['user']!r}.")
        mapping = {}
        for pair in opts["map"]:
            person, sep, account = pair.partition("=")
            if not sep or not person or not account:
                raise CommandError(f"--map takes PERSON=ACCOUNT, not {pair!r}.")
            mapping[person] = account
        path = Path(opts["archive"])
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        # Only opening the file is "cannot read": an error while storing the review's files
        # (a full disk) is the site's own, and shows as such.
        with fh:
            try:
                review = review_import(stream=fh, slug=opts["slug"], actor=actor, mapping=mapping)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Imported review '{review.title}' at /reviews/{review.slug}/")
        named = len(review.archived_people)
        self.stdout.write(f"{len(mapping)} people mapped to accounts, {named} kept as names.")
        if actor is None:
            self.stdout.write("Nobody is a member of it yet: import with --user to lead it.")
