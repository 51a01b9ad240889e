"""Cells for spreadsheets (CSV and XLSX exports) that cannot run as formulas. Pure."""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """``value`` as a spreadsheet cell that cannot run as a formula.

    A cell starting with "=", "+", "-" or "@" is run as a formula by Excel and LibreOffice
    (OWASP "CSV injection"); a leading apostrophe makes it text. Titles from hostile or merely
    odd records ("-Omics ...") get the apostrophe too; the RIS export is unaffected. Anything
    but text is returned as it is.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
