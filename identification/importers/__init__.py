"""Pure import layer: database exports (bytes) in, normalised :class:`ParsedRecord` out.

No Django here (STYLE habit 6): services in ``reviews/services.py`` open the upload, call
:func:`open_records`, and store the records in batches. See ``api.py`` for a usage sketch.
"""

from core.spreadsheet import spreadsheet_safe
from identification.importers import parallel, pgcopy
from identification.importers.api import (
    MAX_SKIP_REASONS,
    ImportReport,
    RecordStream,
    Skipped,
    iter_records,
    open_records,
    table_columns,
)
from identification.importers.encoding import DecodedText, decode_stream, iter_lines
from identification.importers.errors import ImportFormatError
from identification.importers.formats import SNIFF_BYTES, DetectedFormat, Format, sniff
from identification.importers.records import (
    ParsedRecord,
    clean_text,
    normalise_doi,
    normalise_issn,
    normalise_pages,
    parse_year,
)
from identification.importers.tabular import TARGET_FIELDS, suggest_mapping
from identification.importers.types import RIS_TYPES, ris_type
from identification.importers.writers import CSV_COLUMNS, write_csv, write_ris

__all__ = [
    "CSV_COLUMNS",
    "MAX_SKIP_REASONS",
    "RIS_TYPES",
    "SNIFF_BYTES",
    "TARGET_FIELDS",
    "DecodedText",
    "DetectedFormat",
    "Format",
    "ImportFormatError",
    "ImportReport",
    "ParsedRecord",
    "RecordStream",
    "Skipped",
    "clean_text",
    "decode_stream",
    "iter_lines",
    "iter_records",
    "normalise_doi",
    "normalise_issn",
    "normalise_pages",
    "open_records",
    "parallel",
    "parse_year",
    "pgcopy",
    "ris_type",
    "sniff",
    "spreadsheet_safe",
    "suggest_mapping",
    "table_columns",
    "write_csv",
    "write_ris",
]
