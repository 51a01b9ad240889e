"""Run (or rerun) deduplication of a review from the command line."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.db import transaction

from deduplication.services import dedup_run
from reviews.management.common import review_or_error


class Command(BaseCommand):
    help = (
        "Deduplicate a review's records (new ones against all; --full compares all with all) "
        "and print records, clusters, merged and queued as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--review", required=True, metavar="SLUG")
        parser.add_argument("--full", action="store_true", help="compare every record again")

    def handle(self, *args, **opts):
        review = review_or_error(opts["review"])
        with transaction.atomic():
            summary = dedup_run(review=review, full=opts["full"])
        self.stdout.write(json.dumps(summary, indent=2))
