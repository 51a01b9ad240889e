"""Write every stored analysis of a review as files that rerun in R:
``python manage.py export_analyses --review SLUG -o DIR``.

One folder per analysis with a stored result (its newest result), named by a safe slug of the
analysis's name (made unique with ``-2``, ``-3``...), holding ``data.csv`` (one row per study:
study, yi, vi and its moderator, subgroup and risk-of-bias columns), ``analysis.R`` (reads
``data.csv`` with metafor and prints every number of the results page) and ``results.json``.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reviews.models import Review
from synthesis import selectors
from synthesis.exports import safe_slug, write_folder


class Command(BaseCommand):
    help = "Export each analysis's newest result as data.csv, analysis.R and results.json."

    def add_arguments(self, parser):
        parser.add_argument("--review", required=True, help="The review's slug.")
        parser.add_argument("-o", "--output", required=True, help="The folder to write into.")

    def handle(self, *args, **options):
        review = Review.objects.filter(slug=options["review"]).first()
        if review is None:
            raise CommandError(f"No review with the slug {options['review']!r}.")
        out = Path(options["output"])
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out} exists and is not a folder.")
        found = [a for a in selectors.analyses_with_latest(review) if a.latest is not None]
        if not found:
            raise CommandError(
                f"The review {review.slug!r} has no stored analysis results: run an analysis first."
            )
        used: set[str] = set()
        for analysis in found:
            base = safe_slug(analysis.name)
            name, n = base, 1
            while name in used:
                n += 1
                name = f"{base}-{n}"
            used.add(name)
            result = analysis.results.order_by("-pk").first()
            try:
                write_folder(result, out / name)
            except OSError as exc:
                raise CommandError(f"Could not write {out / name}: {exc.strerror}.") from None
            self.stdout.write(
                f"{name}/: data.csv, analysis.R, results.json (snapshot {result.snapshot_number})"
            )
        self.stdout.write(f"{len(found)} analyses written to {out}.")
