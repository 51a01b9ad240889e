"""Reads of full-text reports."""

from __future__ import annotations

from identification.models import Record
from screening.fulltext.models import FullTextReport


def report_of(record: Record) -> FullTextReport | None:
    return FullTextReport.objects.filter(record=record).first()
