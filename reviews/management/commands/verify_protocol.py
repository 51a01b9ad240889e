"""``manage.py verify_protocol --review SLUG``: recompute the fingerprint of every registered
version and published amendment of the review's protocol, print each one's status, and exit
non-zero (naming the versions) if any stored content no longer matches its fingerprint."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from reviews.management.common import review_or_error
from reviews.protocol import selectors


class Command(BaseCommand):
    help = "Check that the review's frozen protocol versions still match their fingerprints."

    def add_arguments(self, parser):
        parser.add_argument("--review", required=True, help="The review's address (slug).")

    def handle(self, *args, **options):
        review = review_or_error(options["review"])
        checks = selectors.fingerprint_checks(review)
        draft = selectors.draft_of(review)
        if not checks:
            self.stdout.write(f"{review.slug}: no registered protocol version to verify.")
        bad = []
        for check in checks:
            version = check.version
            label = f"version {version.number} ({version.state})"
            if check.ok:
                self.stdout.write(f"{label}: OK, sha256 {check.stored}")
            else:
                bad.append(version.number)
                stored = check.stored or "none stored"
                self.stdout.write(
                    f"{label}: MISMATCH, stored {stored}, content now gives {check.computed}"
                )
        if draft is not None:
            self.stdout.write(f"version {draft.number} (draft): not frozen, nothing to verify")
        if bad:
            names = ", ".join(str(n) for n in bad)
            versions = "version" if len(bad) == 1 else "versions"
            raise CommandError(
                f"The stored content of protocol {versions} {names} of {review.slug!r} no "
                "longer matches its fingerprint: it was changed after it was frozen."
            )
