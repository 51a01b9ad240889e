"""The record columns a deduplication run reads come from the engine's input record."""

from __future__ import annotations

import dataclasses

from deduplication import engine
from deduplication import services as deduplication
from identification.importers import ParsedRecord
from identification.models import Record


def test_a_run_reads_every_engine_field_a_record_has_and_nothing_the_record_lacks():
    engine_fields = {f.name for f in dataclasses.fields(engine.DedupRecord)} - {"id"}
    read = set(deduplication._ENGINE_FIELDS)
    # The engine also takes an ISBN (where some sets keep ISSNs); a record has none.
    assert engine_fields - read == {"isbn"}
    assert read <= set(ParsedRecord.NORMALISED_FIELDS)
    columns = {f.attname for f in Record._meta.concrete_fields}
    assert set(deduplication._FIELDS) <= columns


def test_empty_columns_reach_the_engine_as_absent_and_the_title_as_it_is():
    row = {name: "" for name in deduplication._FIELDS}
    row.update(id=7, title="A title", authors=["Smith, J"], year=2020, doi="10.1/x")
    record = deduplication._as_input(row)
    assert record == engine.DedupRecord(
        id=7, title="A title", authors=("Smith, J",), year=2020, doi="10.1/x"
    )
