"""Every file a review team downloads, built in one place.

``records`` (the record list as RIS or CSV), ``studies`` (included studies, their
characteristics, the reports excluded at full text), ``screening`` (votes under the blinding
rules, agreement figures), ``audit`` (the audit log); ``files`` writes rows as CSV or XLSX with
formula-safe cells. The PRISMA diagram and its CSV are ``reporting.prisma``; the whole review
is ``reporting.archive``.
"""

from reporting.exports.audit import audit_csv_rows
from reporting.exports.records import records_export, records_for_export
from reporting.exports.screening import agreement_csv_rows, votes_csv_rows
from reporting.exports.studies import (
    EXPORTS,
    build_export,
    characteristics_rows,
    excluded_at_full_text,
    excluded_rows,
    included_records,
)

__all__ = [
    "EXPORTS",
    "agreement_csv_rows",
    "audit_csv_rows",
    "build_export",
    "characteristics_rows",
    "excluded_at_full_text",
    "excluded_rows",
    "included_records",
    "records_export",
    "records_for_export",
    "votes_csv_rows",
]
