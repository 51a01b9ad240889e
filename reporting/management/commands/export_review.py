"""Write a whole review as one zip archive."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from reporting.archive import review_export
from reviews.management.common import review_or_error


class Command(BaseCommand):
    help = (
        "Export everything of one review (searches, files, records, screening, audit log) as a zip."
    )

    def add_arguments(self, parser):
        parser.add_argument("--review", required=True, metavar="SLUG")
        parser.add_argument("-o", "--output", required=True, metavar="FILE.zip")

    def handle(self, *args, **opts):
        review = review_or_error(opts["review"])
        try:
            with open(opts["output"], "wb") as fh:
                manifest = review_export(review=review, stream=fh)
        except OSError as exc:
            raise CommandError(f"Cannot write {opts['output']}: {exc.strerror}") from None
        rows = sum(n for n in manifest["models"].values())
        self.stdout.write(f"Wrote {opts['output']}: {rows:,} rows, {len(manifest['files'])} files")
