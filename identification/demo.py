"""The demo review's searches: five real database exports imported through the services.

One step of the demo review (``demo/build.py`` runs the steps in PRISMA order).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from core import jobs
from identification import rounds, services
from identification.models import Search
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


#: The demo's update round: its real records split by publication year. Those published up to
#: this year are round 1, the later ones round 2 (both come from the one search of 2022-12-07).
SPLIT_YEAR = 2020
DEMO_DATE = dt.date(2022, 12, 7)
ROUND_REASON = (
    "Demonstration of an update: the demo's real records are split by publication year, "
    f"those published up to {SPLIT_YEAR} form round 1 and the later ones round 2 (all come "
    f"from the one search of {DEMO_DATE:%Y-%m-%d})."
)
_YEAR = re.compile(r"^(?:PY|Y1|DA)  - (\d{4})", re.MULTILINE)


def split_by_year(data: bytes) -> tuple[bytes, bytes]:
    """A RIS export cut in two: records published up to :data:`SPLIT_YEAR` (or undated), and
    the later ones. Each record keeps its lines and line endings as exported."""
    early: list[str] = []
    late: list[str] = []
    block: list[str] = []
    for line in data.decode("utf-8-sig").splitlines(keepends=True):
        block.append(line)
        if line.startswith("ER  -"):
            text = "".join(block)
            found = _YEAR.search(text)
            (late if found and int(found.group(1)) > SPLIT_YEAR else early).append(text)
            block = []
    early.extend(block)  # anything after the last record stays with the first part
    return "".join(early).encode("utf-8"), "".join(late).encode("utf-8")


def _import(lead, search, content: bytes, filename: str) -> None:
    batch = services.batch_upload(
        actor=lead, search=search, fileobj=io.BytesIO(content), filename=filename, enqueue=False
    )
    # Run in this process whatever the broker, so the demo is complete when the command ends.
    jobs.job_run(batch.job_id)


def _records(content: bytes) -> int:
    return content.count(b"\nER  -") + content.startswith(b"ER  -")


def step_searches(review: Review, people: dict) -> None:
    """Round 1: each database's records published up to :data:`SPLIT_YEAR`."""
    lead = people["lead"]
    for filename, database, platform, _hits in DEMO_SEARCHES:
        early, _late = split_by_year((DEMO_DATA / filename).read_bytes())
        search = services.search_create(
            actor=lead,
            review=review,
            database=database,
            platform=platform,
            date_searched=DEMO_DATE,
            reported_hits=_records(early),
            notes="Export from the CiteSource gambling-harms example; its search string was "
            f"not published with the files. Round 1 of the demo: the records published up to "
            f"{SPLIT_YEAR}.",
        )
        _import(lead, search, early, filename.replace(".ris", f"_to-{SPLIT_YEAR}.ris"))


def step_update_round(review: Review, people: dict) -> None:
    """Round 2: a lead opens the update round (which copies the five searches) and the team
    imports each database's records published after :data:`SPLIT_YEAR`."""
    lead = people["lead"]
    new = rounds.round_open(actor=lead, review=review, date=DEMO_DATE, reason=ROUND_REASON)
    reruns = {s.database: s for s in Search.objects.filter(round=new)}
    for filename, database, _platform, _hits in DEMO_SEARCHES:
        _early, late = split_by_year((DEMO_DATA / filename).read_bytes())
        search = services.search_update(
            actor=lead,
            search=reruns[database],
            date_searched=DEMO_DATE,
            reported_hits=_records(late),
        )
        _import(lead, search, late, filename.replace(".ris", f"_from-{SPLIT_YEAR + 1}.ris"))
