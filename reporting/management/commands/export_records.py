"""Export a review's records as RIS or CSV."""

from __future__ import annotations

import shutil
import sys

from django.core.management.base import BaseCommand, CommandError

from identification import selectors as record_selectors
from reporting import exports
from reviews.management.common import review_or_error


class Command(BaseCommand):
    help = "Export every record of a review as RIS or CSV (to a file or standard output)."

    def add_arguments(self, parser):
        parser.add_argument("--review", required=True, metavar="SLUG")
        parser.add_argument("--format", required=True, choices=["ris", "csv"])
        parser.add_argument("-o", "--output", default="-", metavar="FILE")

    def handle(self, *args, **opts):
        review = review_or_error(opts["review"])
        records = record_selectors.records_filtered(review=review, filters={})
        spool = exports.records_export(records, opts["format"])
        try:
            if opts["output"] == "-":
                out = getattr(self.stdout, "_out", sys.stdout)
                out.write(spool.read().decode("utf-8"))
            else:
                try:
                    with open(opts["output"], "wb") as fh:
                        shutil.copyfileobj(spool, fh)
                except OSError as exc:
                    raise CommandError(f"Cannot write {opts['output']}: {exc.strerror}") from None
        finally:
            spool.close()
