"""A summary-of-findings table with one row on the sample analysis of ``app_world``: the
sample objects of the summary-of-findings routes (tests/reviews/routes.py, persona_world.py)."""

from __future__ import annotations


def sof_sample(review) -> dict[str, int]:
    from synthesis.sof.models import SofRow, SofTable
    from tests.synthesis.app_world import sample_objects

    objects = sample_objects(review)
    row = SofRow.objects.filter(review=review).first()
    if row is None:
        table, _ = SofTable.objects.get_or_create(
            review=review, defaults={"intervention": "Sample vaccine", "comparison": "none"}
        )
        row = SofRow.objects.create(
            review=review,
            table=table,
            analysis_id=objects["analysis"],
            result_id=objects["analysis_result"],
            snapshot_number=1,
            position=1,
            outcome_label="Tuberculosis",
        )
    return {"sof_row": row.pk}
