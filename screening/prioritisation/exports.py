"""The stop decisions as files for the methods section (CSV and Markdown)."""

from __future__ import annotations

import csv
import io

from core.spreadsheet import spreadsheet_safe
from reviews.models import Review
from screening.prioritisation.models import StopDecision

COLUMNS = [
    ("decided_at", "Decided at (UTC)"),
    ("decided_by", "Decided by"),
    ("screened", "Records screened"),
    ("total", "Records in total"),
    ("relevant", "Relevant found"),
    ("remaining", "Estimated relevant remaining"),
    ("interval", "Interval"),
    ("recall_target", "Recall target"),
    ("confidence", "Confidence"),
    ("p_value", "Hypergeometric test p"),
    ("run", "Consecutive irrelevant"),
    ("reason", "Reason"),
]


def _rows(review: Review) -> list[dict[str, str]]:
    out = []
    for d in StopDecision.objects.filter(review=review).select_related("decided_by"):
        e = d.estimate
        out.append({
            "decided_at": f"{d.decided_at:%Y-%m-%d %H:%M}",
            "decided_by": d.decided_by.get_username() if d.decided_by_id else d.decided_by_name,
            "screened": str(e.get("screened", "")),
            "total": str(e.get("total", "")),
            "relevant": str(e.get("relevant", "")),
            "remaining": str(e.get("remaining_estimate", "")),
            "interval": f"{e.get('remaining_low', '')}-{e.get('remaining_high', '')}",
            "recall_target": f"{100 * d.recall_target:g} %",
            "confidence": f"{100 * d.confidence:g} %",
            "p_value": f"{e.get('p_value', 1):.4f}",
            "run": str(e.get("consecutive_irrelevant", "")),
            "reason": d.reason,
        })  # fmt: skip
    return out


def stop_decisions_csv(review: Review) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([label for _, label in COLUMNS])
    for row in _rows(review):
        writer.writerow([spreadsheet_safe(row[key]) for key, _ in COLUMNS])
    return buf.getvalue()


def stop_decisions_markdown(review: Review) -> str:
    lines = [f"# Stopping title and abstract screening: {review.title}", ""]
    rows = _rows(review)
    if not rows:
        return "\n".join([*lines, "No decision to stop screening was recorded.", ""])
    for r in rows:
        lines.append(
            f"On {r['decided_at']} UTC {r['decided_by']} stopped title and abstract screening "
            f"after {r['screened']} of {r['total']} records, with {r['relevant']} relevant "
            f"found. The hypergeometric stopping test of Callaghan and Müller-Hansen (2020) "
            f"for a recall target of {r['recall_target']} gave p = {r['p_value']} (confidence "
            f"{r['confidence']}); an estimated {r['remaining']} relevant records (interval "
            f"{r['interval']}) remained unscreened, and the last {r['run']} records screened "
            f"were irrelevant. Reason: {r['reason'].replace(chr(10), ' ')}"
        )
        lines.append("")
    return "\n".join(lines)
