"""Write a review's PRISMA 2020 flow diagram (SVG, PNG, PDF) or its numbers (CSV)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from reporting.views import prisma_file
from reviews.management.common import review_or_error


class Command(BaseCommand):
    help = (
        "Write the PRISMA 2020 flow diagram of a review as SVG, PNG or PDF, or its numbers as "
        "CSV in the PRISMA2020 R package's data template."
    )

    def add_arguments(self, parser):
        parser.add_argument("--review", required=True, metavar="SLUG")
        parser.add_argument("--format", required=True, choices=["svg", "png", "pdf", "csv"])
        parser.add_argument("-o", "--output", default="-", metavar="FILE")

    def handle(self, *args, **opts):
        review = review_or_error(opts["review"])
        data = prisma_file(review, opts["format"])
        if opts["output"] == "-":
            sys.stdout.buffer.write(data)
            return
        try:
            with open(opts["output"], "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise CommandError(f"Cannot write {opts['output']}: {exc.strerror}") from None
        self.stderr.write(f"Wrote {opts['output']} ({len(data):,} bytes)")
