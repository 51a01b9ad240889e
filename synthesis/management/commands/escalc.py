"""Effect sizes for a CSV of study rows: ``python manage.py escalc FILE.csv --measure SMD``.

A thin caller: it reads the file (UTF-8, with or without a BOM, UTF-16 with a BOM, or
Windows-1252), hands header and cells to ``synthesis.stats.escalc_table.escalc_table`` and
writes the input with ``yi`` and ``vi`` added, as CSV or (``--json``) JSON records. Bad rows
are a ``CommandError`` naming every one and nothing is written, unless ``--skip-bad``: then
they are reported on stderr and written with empty yi/vi.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from synthesis.stats import StatsError
from synthesis.stats.escalc import MEASURES, ZERO_RULES
from synthesis.stats.escalc_table import EscalcTable, escalc_table

MAX_LISTED = 50  # bad rows named in the error; the count covers the rest
DELIMITERS = (",", ";", "\t")


def _decode(raw: bytes, path: str) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise CommandError(f"{path} starts like UTF-16 text but is not.") from None
    if raw.startswith(b"PK\x03\x04"):
        raise CommandError(
            f"{path} is a zip file (an .xlsx workbook?), not CSV; save the sheet as CSV first."
        )
    if b"\x00" in raw:
        raise CommandError(f"{path} is not a CSV text file: it holds binary data.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise CommandError(f"{path} is neither UTF-8 nor Windows-1252 (cp1252) text.") from None


def _read_csv(path: str) -> tuple[list[str], list[list[str]]]:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise CommandError(f"File not found: {path}") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a directory, not a CSV file.") from None
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
    text = _decode(raw, path)
    if not text.strip():
        raise CommandError(f"{path} is empty.")
    first = text.lstrip("\r\n").splitlines()[0]
    delimiter = max(DELIMITERS, key=first.count)  # ties keep the comma
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise CommandError(f"{path} is not valid CSV: {exc}") from None
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
    return rows[0], rows[1:]


def _cell(value: str | float | None) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else value


class Command(BaseCommand):
    help = (
        "Add effect sizes (yi) and sampling variances (vi) to a CSV of study rows, with "
        "metafor's escalc conventions; writes CSV (or JSON records). Columns, in metafor's "
        "names: OR, RR, RD: ai, bi (or n1i), ci, di (or n2i). MD: m1i, sd1i, n1i, m2i, sd2i, "
        "n2i. SMD: the same, or ti, or pi (a two-sided p-value, negative when group 1 is "
        "lower, or with a sign column), or fi (one-df F, with sign), each with n1i, n2i. "
        "COR, ZCOR: ri, ni. PR, PLO: xi, ni. Any measure: est, ci.lb, ci.ub (a reported "
        "estimate with its CI; ratios for OR and RR)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument("--measure", required=True, type=str.upper, choices=MEASURES)
        parser.add_argument(
            "--vtype", default="LS", type=str.upper,
            help="sampling variance: LS (default), UB, LS2, HO or AV, as metafor allows each",
        )  # fmt: skip
        parser.add_argument("--add", default=0.5, type=float, help="zero-cell correction (1/2)")
        parser.add_argument("--to", default="only0", choices=ZERO_RULES, help="where to add it")
        parser.add_argument("--drop00", action="store_true", help="leave out double-zero studies")
        parser.add_argument("--level", default=95.0, type=float, help="level of est's CIs, in %%")
        parser.add_argument("--json", action="store_true", help="write JSON records, not CSV")
        parser.add_argument(
            "--skip-bad", action="store_true",
            help="report bad rows on stderr and write them with empty yi/vi instead of failing",
        )  # fmt: skip
        parser.add_argument("--output", "-o", metavar="OUT", help="write here, not to stdout")

    def handle(self, *args, **opts):
        if not math.isfinite(opts["add"]) or opts["add"] < 0:
            raise CommandError(f"--add must be a number of 0 or more, not {opts['add']}.")
        header, rows = _read_csv(opts["file"])
        try:
            table = escalc_table(
                header, rows, opts["measure"], vtype=opts["vtype"], add=opts["add"],
                to=opts["to"], drop00=opts["drop00"], level=opts["level"],
            )  # fmt: skip
        except StatsError as exc:
            raise CommandError(str(exc)) from None
        if table.problems and not opts["skip_bad"]:
            listed = "\n".join(table.problems[:MAX_LISTED])
            more = len(table.problems) - MAX_LISTED
            raise CommandError(
                f"{len(table.problems)} bad row(s) in {opts['file']}; nothing was written "
                f"(--skip-bad writes the others):\n{listed}"
                + (f"\n... and {more} more." if more > 0 else "")
            )
        for message in table.problems:
            self.stderr.write(f"Skipped: {message}")
        for note in table.notes:
            self.stderr.write(f"Note: {note}")
        text = self._json(table) if opts["json"] else self._csv(table)
        if opts["output"]:
            try:
                Path(opts["output"]).write_text(text, encoding="utf-8", newline="")
            except OSError as exc:
                raise CommandError(f"Cannot write {opts['output']}: {exc.strerror}") from None
        else:
            self.stdout.write(text, ending="")

    @staticmethod
    def _csv(table: EscalcTable) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.output_header())
        writer.writerows([_cell(v) for v in values] for values in table.records())
        return out.getvalue()

    @staticmethod
    def _json(table: EscalcTable) -> str:
        names = table.output_header()
        records = [dict(zip(names, values, strict=True)) for values in table.records()]
        return json.dumps(records, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
