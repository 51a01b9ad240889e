from screening.constants import ItemStatus, Stage
from screening.demo import step_screening
from screening.models import Resolution, ScreeningItem, Vote
from tests.conftest import make_user

from .factories import make_records


def test_the_demo_step_leaves_screening_in_progress_with_a_conflict(
    review, lead, reviewer_a, reviewer_b
):
    make_records(review, 30)
    people = {"lead": lead, "reviewer_a": reviewer_a, "reviewer_b": reviewer_b}
    people["stats"] = make_user("stats")
    step_screening(review, people)
    ta = ScreeningItem.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT)
    assert ta.filter(status=ItemStatus.CONFLICT).count() == 1
    assert Resolution.objects.filter(item__review=review).count() == 2
    assert ta.filter(status=ItemStatus.PENDING).exists()
    assert ta.filter(status=ItemStatus.INCLUDED).count() == 4
    ft = ScreeningItem.objects.filter(review=review, stage=Stage.FULL_TEXT)
    assert ft.count() == 4 and ft.filter(status=ItemStatus.NOT_RETRIEVED).count() == 1
    assert Vote.objects.filter(stage=Stage.FULL_TEXT).count() == 1
