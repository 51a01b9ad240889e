"""A job as people read it: what it works on, its progress, and its result as labelled rows.

A job kind may register ``present(result) -> list[Row]`` and ``describe(job) -> Subject``
(``core.jobs.register``); a kind without them, and the keys its presenter leaves out, get a
readable definition list built from the result's own keys (``rows_of``), never a Python dict.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core import background, jobs
from core.constants import JobStatus
from core.models import Job

log = logging.getLogger(__name__)

#: Items of a list shown before "… and N more".
MAX_ITEMS = 20


@dataclass(frozen=True)
class Row:
    """One line of a result: a label and a value, or a list of items, or nested rows."""

    label: str
    value: str = ""
    items: tuple[str, ...] = ()
    rows: tuple[Row, ...] = ()
    warning: bool = False


@dataclass(frozen=True)
class Subject:
    """What a job works on: a sentence, a link to it, and what to say if the job failed."""

    title: str
    url: str = ""
    link: str = ""
    failed_note: str = ""


def number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def text_of(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return number(value)
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) >= 1000 else f"{value:g}"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(text_of(v) for v in value)
    return json.dumps(value, ensure_ascii=False, default=str)


def label_of(key: Any) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "—"


def items_of(values: Iterable[Any]) -> tuple[str, ...]:
    values = list(values)
    shown = [text_of(v) for v in values[:MAX_ITEMS]]
    if len(values) > MAX_ITEMS:
        shown.append(f"… and {len(values) - MAX_ITEMS:,} more")
    return tuple(shown)


def rows_of(data: Mapping[str, Any], *, skip: Iterable[str] = (), nested: bool = True) -> list[Row]:
    """A readable row for every key of ``data`` not in ``skip``: its key as a label, lists as
    items, a dict as nested rows (one level; deeper values as text)."""
    skipped = set(skip)
    rows = []
    for key, value in data.items():
        if key in skipped:
            continue
        label = label_of(key)
        if isinstance(value, dict):
            if nested and value:
                rows.append(Row(label, rows=tuple(rows_of(value, nested=False))))
            else:
                rows.append(Row(label, text_of(value) if value else "—"))
        elif isinstance(value, list | tuple):
            rows.append(Row(label, items=items_of(value)) if value else Row(label, "none"))
        else:
            rows.append(Row(label, text_of(value)))
    return rows


def result_rows(job: Job) -> list[Row]:
    """The rows of ``job``'s result, through its kind's presenter when it has one."""
    result = job.result
    if not result:
        return []
    if not isinstance(result, dict):
        return [Row("Result", text_of(result))]
    spec = jobs.kinds().get(job.kind)
    if spec is not None and spec.present is not None:
        try:
            return list(spec.present(dict(result)))
        except Exception:  # a presenter's bug must not hide the result
            log.exception("presenting the result of job %s (%s) failed", job.pk, job.kind)
    return rows_of(result)


def subject_of(job: Job) -> Subject | None:
    spec = jobs.kinds().get(job.kind)
    if spec is None or spec.describe is None:
        return None
    try:
        return spec.describe(job)
    except Exception:  # what it worked on may be gone; the job page still shows the job
        log.exception("describing job %s (%s) failed", job.pk, job.kind)
        return None


def title_of(job: Job) -> str:
    spec = jobs.kinds().get(job.kind)
    return label_of(spec.label) if spec is not None else label_of(job.kind)


def with_live_progress(job: Job) -> Job:
    """``job`` with the progress a job running in this process reported (``core.background``):
    on SQLite it is written to the database only when the job ends."""
    if job.status == JobStatus.RUNNING:
        live = background.live_progress(job.pk)
        if live is not None:
            job.progress, job.message = live
    return job
