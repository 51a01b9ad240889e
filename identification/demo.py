"""The demo review's searches: five real database exports imported through the services.

One step of the demo review (``demo/build.py`` runs the steps in PRISMA order).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from core import jobs
from identification import services
from reviews.models import Review

DEMO_DATA = Path(__file__).resolve().parent.parent / "demo_data" / "gambling_harms_5db"
# One real search on gambling harms run in five databases on the same day (CiteSource's
# vignette data, GPL-3; see demo_data/gambling_harms_5db/SOURCES.md).
DEMO_SEARCHES = [
    ("20221207_gambling-harms_scopus_255.ris", "Scopus", "Elsevier", 255),
    ("20221207_gambling-harms_pubmed_176.ris", "MEDLINE", "PubMed", 176),
    ("20221207_gambling-harms_psycinfo_124.ris", "APA PsycInfo", "EBSCOhost", 124),
    ("20221207_gambling-harms_lens_49.ris", "Lens", "Lens.org", 49),
    ("20221207_gambling-harms_crimjust_41.ris", "Criminal Justice Abstracts", "EBSCOhost", 41),
]


def step_searches(review: Review, people: dict) -> None:
    lead = people["lead"]
    for filename, database, platform, hits in DEMO_SEARCHES:
        search = services.search_create(
            actor=lead,
            review=review,
            database=database,
            platform=platform,
            date_searched=dt.date(2022, 12, 7),
            reported_hits=hits,
            notes="Export from the CiteSource gambling-harms example; its search string was "
            "not published with the files.",
        )
        with (DEMO_DATA / filename).open("rb") as fh:
            batch = services.batch_upload(
                actor=lead, search=search, fileobj=fh, filename=filename, enqueue=False
            )
        # Run in this process whatever the broker, so the demo is complete when the command ends.
        jobs.job_run(batch.job_id)
