"""One list of the bibliographic fields: ``ParsedRecord.NORMALISED_FIELDS``.

The other lists derive from it, or keep an order of their own for a reason and hold the same
fields; these tests fail when a field is added to one place and not the others.
"""

from __future__ import annotations

import dataclasses

from identification.importers import CSV_COLUMNS, TARGET_FIELDS, ParsedRecord
from identification.models import Record

FIELDS = ParsedRecord.NORMALISED_FIELDS


def test_the_field_list_is_the_record_fields_in_their_order_without_raw_and_line():
    declared = [f.name for f in dataclasses.fields(ParsedRecord)]
    assert list(FIELDS) == [name for name in declared if name not in ("raw", "source_line")]


def test_the_column_mapping_offers_every_field_in_order_and_start_and_end_pages_after_pages():
    pages = TARGET_FIELDS.index("pages")
    assert TARGET_FIELDS[pages + 1 : pages + 3] == ("start_page", "end_page")
    assert [t for t in TARGET_FIELDS if t not in ("start_page", "end_page")] == list(FIELDS)


def test_the_csv_export_has_every_field_once_in_its_own_order():
    assert len(CSV_COLUMNS) == len(set(CSV_COLUMNS))
    assert set(CSV_COLUMNS) == set(FIELDS)


def test_a_stored_record_has_a_column_for_every_field():
    columns = {f.attname for f in Record._meta.concrete_fields}
    assert set(FIELDS) <= columns
