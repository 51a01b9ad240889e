"""Pure import layer: database exports (bytes) in, normalised :class:`ParsedRecord` out.

No Django here (STYLE habit 6): services in ``reviews/services.py`` open the upload, call
:func:`open_records`, and store the records in batches. See ``api.py`` for a usage sketch.
"""

from . import parallel, pgcopy
from .api import (
    MAX_SKIP_REASONS,
    ImportReport,
    RecordStream,
    Skipped,
    iter_records,
    open_records,
    table_columns,
)
from .encoding import DecodedText, decode_stream, iter_lines
from .errors import ImportFormatError
from .formats import SNIFF_BYTES, DetectedFormat, Format, sniff
from .records import (
    ParsedRecord,
    clean_text,
    normalise_doi,
    normalise_issn,
    normalise_pages,
    parse_year,
)
from .tabular import TARGET_FIELDS, suggest_mapping
from .types import RIS_TYPES, ris_type
from .writers import CSV_COLUMNS, spreadsheet_safe, write_csv, write_ris

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
