"""The protocol's planned databases against the searches recorded and imported.

Names are compared as written, ignoring case and spacing ("APA PsycInfo" and "apa  psycinfo"
are one database; "Web of Science" and "Web of Science Core Collection" are two). A database is
*searched* when a search of it has an imported file (the import log); a search recorded with
no file imported yet is *recorded, not imported*.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from identification.constants import BatchStatus
from identification.models import Search
from reviews.models import Review
from reviews.protocol.selectors import planned_databases


def database_key(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass
class DatabasesAgainstPlan:
    planned: list[str] = field(default_factory=list)
    #: Planned, and a file of their search imported.
    searched: list[str] = field(default_factory=list)
    #: Planned, a search recorded, no file imported yet.
    not_imported: list[str] = field(default_factory=list)
    #: Planned, no search recorded.
    not_searched: list[str] = field(default_factory=list)
    #: Searched (recorded) but not in the protocol, as the searches name them.
    unplanned: list[str] = field(default_factory=list)

    @property
    def waiting(self) -> list[str]:
        """Planned, not yet imported (the searches page's list), in the protocol's order."""
        waiting = {database_key(n) for n in self.not_imported + self.not_searched}
        return [n for n in self.planned if database_key(n) in waiting]


def databases_against_plan(review: Review) -> DatabasesAgainstPlan:
    planned = planned_databases(review)
    recorded: dict[str, str] = {}
    imported: set[str] = set()
    rows = Search.objects.filter(review=review).order_by("created_at", "pk")
    for search in rows.values("database"):
        recorded.setdefault(database_key(search["database"]), search["database"])
    for name in (
        Search.objects.filter(review=review, batches__status=BatchStatus.IMPORTED)
        .values_list("database", flat=True)
        .distinct()
    ):
        imported.add(database_key(name))
    result = DatabasesAgainstPlan(planned=list(planned))
    planned_keys = set()
    for name in planned:
        key = database_key(name)
        planned_keys.add(key)
        if key in imported:
            result.searched.append(name)
        elif key in recorded:
            result.not_imported.append(name)
        else:
            result.not_searched.append(name)
    result.unplanned = [name for key, name in recorded.items() if key not in planned_keys]
    return result
