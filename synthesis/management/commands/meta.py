"""Run a meta-analysis on a CSV of effect sizes: ``python manage.py meta FILE.csv [...]``.

A thin caller: it reads the file, hands the cells to ``synthesis.stats.table.study_table`` and
the arrays to ``synthesis.stats.meta_analyse``, and prints ``summary_text`` or
``summary_dict`` as JSON. Every foreseeable problem becomes a ``CommandError`` with a message.
"""

from __future__ import annotations

import csv
import json

from django.core.management.base import BaseCommand, CommandError

from synthesis.stats import METHODS, TESTS, StatsError, meta_analyse, summary_dict, summary_text
from synthesis.stats.table import study_table


def _read_csv(path: str) -> tuple[list[str], list[list[str]]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise CommandError(f"File not found: {path}") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a directory, not a CSV file.") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text.") from None
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
    if not text.strip():
        raise CommandError(f"{path} is empty.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(text.splitlines(), dialect))
    except csv.Error as exc:
        raise CommandError(f"{path} is not valid CSV: {exc}") from None
    return rows[0], rows[1:]


class Command(BaseCommand):
    help = (
        "Meta-analyse a CSV with columns yi and vi (or sei), optionally study, moderators and a "
        "subgroup column; prints a metafor-style summary or JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument("--method", default="REML", type=str.upper, choices=METHODS)
        parser.add_argument("--test", default="z", type=str.lower, choices=TESTS)
        parser.add_argument("--level", default=95.0, type=float, help="confidence level in %%")
        parser.add_argument(
            "--moderator", action="append", default=[], metavar="COL",
            help="moderator column (numeric or categorical); repeat for several",
        )  # fmt: skip
        parser.add_argument("--subgroup", metavar="COL", help="subgroup column")
        parser.add_argument("--leave-one-out", action="store_true", help="add leave-one-out")
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")

    def handle(self, *args, **opts):
        header, rows = _read_csv(opts["file"])
        try:
            table = study_table(
                header, rows, moderators=opts["moderator"], subgroup=opts["subgroup"]
            )
            analysis = meta_analyse(
                table.yi,
                table.vi,
                sei=table.sei,
                labels=table.labels,
                method=opts["method"],
                test=opts["test"],
                level=opts["level"],
                moderators=table.moderators or None,
                groups=table.groups,
                with_leave1out=opts["leave_one_out"],
            )
        except StatsError as exc:
            raise CommandError(str(exc)) from None
        if opts["json"]:
            self.stdout.write(json.dumps(summary_dict(analysis), indent=2, allow_nan=False))
        else:
            self.stdout.write(summary_text(analysis), ending="")
