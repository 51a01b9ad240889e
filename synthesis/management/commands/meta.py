"""Run a meta-analysis on a CSV of effect sizes: ``python manage.py meta FILE.csv [...]``.

A thin caller: it reads the file, hands the cells to ``synthesis.stats.table.study_table`` and
the arrays to ``synthesis.stats.meta_analyse``, and prints ``summary_text`` or
``summary_dict`` as JSON. Every foreseeable problem becomes a ``CommandError`` with a message.

``--model three-level --cluster COL [--es-id COL] [--rho R] [--robust cr1|cr2]`` fits effect
sizes nested in clusters instead (``synthesis.stats.multilevel_table`` and
``multilevel_analyse``; ``--method`` REML or ML, ``--test`` z or t) and prints
``multilevel_summary_text`` or ``multilevel_summary_dict``.
"""

from __future__ import annotations

import csv
import json

from django.core.management.base import BaseCommand, CommandError

from synthesis.stats import METHODS, TESTS, StatsError, meta_analyse, summary_dict, summary_text
from synthesis.stats.multilevel_analysis import multilevel_analyse
from synthesis.stats.multilevel_report import multilevel_summary_dict, multilevel_summary_text
from synthesis.stats.multilevel_table import multilevel_table
from synthesis.stats.table import study_table
from synthesis.stats.vcalc import check_rho

MODELS = ("standard", "three-level")
THREE_LEVEL_ONLY = ("cluster", "es_id", "rho", "robust")


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
        parser.add_argument("--test", default="z", type=str.lower, choices=(*TESTS, "t"),
                            help="z, knha (standard model) or t (three-level model)")  # fmt: skip
        parser.add_argument("--level", default=95.0, type=float, help="confidence level in %%")
        parser.add_argument(
            "--moderator", action="append", default=[], metavar="COL",
            help="moderator column (numeric or categorical); repeat for several",
        )  # fmt: skip
        parser.add_argument("--subgroup", metavar="COL", help="subgroup column")
        parser.add_argument("--leave-one-out", action="store_true", help="add leave-one-out")
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")
        parser.add_argument(
            "--model", default="standard", type=str.lower, choices=MODELS,
            help="three-level: effect sizes nested in clusters",
        )  # fmt: skip
        parser.add_argument(
            "--cluster", metavar="COL", help="three-level: the study (cluster) column"
        )  # fmt: skip
        parser.add_argument(
            "--es-id", metavar="COL",
            help="three-level: effect-size id in a study (default: row order)",
        )  # fmt: skip
        parser.add_argument(
            "--rho", type=float, metavar="R",
            help="three-level: CHE working model, within-study correlation R",
        )  # fmt: skip
        parser.add_argument(
            "--robust", type=str.lower, choices=("cr1", "cr2"),
            help="three-level: cluster-robust inference (CR1 or CR2)",
        )  # fmt: skip

    def handle(self, *args, **opts):
        if opts["model"] == "three-level":
            self._three_level(opts)
            return
        given = [
            f"--{name.replace('_', '-')}" for name in THREE_LEVEL_ONLY if opts[name] is not None
        ]
        if given:
            raise CommandError(f"{', '.join(given)}: only with --model three-level.")
        if opts["test"] == "t":
            raise CommandError(
                "--test t is for --model three-level; the standard model's t test is --test knha."
            )
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

    def _three_level(self, opts) -> None:
        if not opts["cluster"]:
            raise CommandError("--model three-level needs --cluster COL (the study column).")
        if opts["method"] not in ("REML", "ML"):
            raise CommandError(
                f"--method {opts['method']}: a three-level model is fitted by REML or ML."
            )
        if opts["test"] not in ("z", "t"):
            raise CommandError(f"--test {opts['test']}: a three-level model takes --test z or t.")
        if opts["subgroup"] or opts["leave_one_out"]:
            raise CommandError("--subgroup and --leave-one-out are not available for three levels.")
        rho = opts["rho"]
        if rho is not None:
            try:
                rho = check_rho(rho)
            except StatsError:
                raise CommandError(
                    f"--rho must be a correlation between -1 and 1, not {opts['rho']:g}."
                ) from None
        header, rows = _read_csv(opts["file"])
        try:
            table = multilevel_table(
                header,
                rows,
                cluster=opts["cluster"],
                es_id=opts["es_id"],
                moderators=opts["moderator"],
            )
            analysis = multilevel_analyse(
                table.yi,
                table.vi,
                sei=table.sei,
                cluster=table.cluster,
                es_id=table.es_id,
                rho=rho,
                moderators=table.moderators or None,
                method=opts["method"],
                test=opts["test"],
                level=opts["level"],
                robust_type=opts["robust"].upper() if opts["robust"] else None,
                cluster_name=opts["cluster"],
                es_id_name=opts["es_id"],
            )
        except StatsError as exc:
            raise CommandError(str(exc)) from None
        if opts["json"]:
            out = multilevel_summary_dict(analysis)
            self.stdout.write(json.dumps(out, indent=2, allow_nan=False))
        else:
            self.stdout.write(multilevel_summary_text(analysis), ending="")
