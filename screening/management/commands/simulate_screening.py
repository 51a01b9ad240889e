"""Replay a labelled review with the ranking model the app uses:
``python manage.py simulate_screening DATASET.csv [--seed S] [--json]``.

The CSV has the columns ``title``, ``abstract`` and ``label_included`` (0 or 1), optionally
``record_id`` and ``keywords``. Prints WSS@95, WSS@100, recall after 10, 25 and 50 % screened,
RRF@10 (percentages, 0-100), the number of records screened when the stopping test
(recall target 95 %, confidence 95 %) would have fired and the recall there, and the run time
in seconds. ``--json`` prints the same under the keys ``wss95, wss100, recall_at_10,
recall_at_25, recall_at_50, rrf10, stop_at, recall_at_stop, seconds``.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from screening.prioritisation.engine.simulate import DatasetError, load_csv, simulate

LABELS = {
    "wss95": "WSS@95 (%)",
    "wss100": "WSS@100 (%)",
    "recall_at_10": "Recall after 10 % screened (%)",
    "recall_at_25": "Recall after 25 % screened (%)",
    "recall_at_50": "Recall after 50 % screened (%)",
    "rrf10": "RRF@10 (%)",
    "stop_at": "Stopping test fired after (records screened)",
    "recall_at_stop": "Recall when it fired (%)",
    "seconds": "Run time (s)",
}


class Command(BaseCommand):
    help = "Replay a labelled review (title, abstract, label_included) with the ranking model."

    def add_arguments(self, parser) -> None:
        parser.add_argument("dataset", help="CSV with title, abstract, label_included")
        parser.add_argument("--seed", type=int, default=0, help="seed of the replay (default 0)")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args, **options) -> None:
        path = Path(options["dataset"])
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise CommandError(f"File not found: {path}") from None
        except IsADirectoryError:
            raise CommandError(f"{path} is a directory, not a CSV file.") from None
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        if raw.startswith(b"PK\x03\x04") or b"\x00" in raw[:4096]:
            raise CommandError(f"{path} is not a CSV text file (a workbook or binary data?).")
        try:
            dataset = load_csv(raw, name=str(path))
        except DatasetError as exc:
            raise CommandError(str(exc)) from None
        result = simulate(dataset, seed=options["seed"])
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        n, rel = len(dataset.labels), int(dataset.labels.sum())
        self.stdout.write(f"{path.name}: {n} records, {rel} relevant, seed {options['seed']}")
        for key, label in LABELS.items():
            value = result[key]
            self.stdout.write(f"{label}: {'never' if value is None else value}")
