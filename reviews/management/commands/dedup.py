"""Run (or rerun) deduplication of a review from the command line."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from reviews.deduplication import dedup_run
from reviews.models import Review


class Command(BaseCommand):
    help = (
        "Deduplicate a review's records (new ones against all; --full compares all with all) "
        "and print records, clusters, merged and queued as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--review", required=True, metavar="SLUG")
        parser.add_argument("--full", action="store_true", help="compare every record again")

    def handle(self, *args, **opts):
        review = Review.objects.filter(slug=opts["review"]).first()
        if review is None:
            raise CommandError(f"No review {opts['review']!r}.")
        with transaction.atomic():
            summary = dedup_run(review=review, full=opts["full"])
        self.stdout.write(json.dumps(summary, indent=2))
