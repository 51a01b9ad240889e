"""The third demo review (issue 15: "The demo review shows a ranked queue and the stopping
panel"): prioritised screening under way on a public labelled set, its queue ranked."""

from __future__ import annotations

import pytest
from django.test import Client

from demo.build import DEMO_PASSWORD, DEMO_USERS, _user
from demo.ranking import RANKING_SLUG, SCREENED, demo_ranking_build, rows
from screening.constants import ItemStatus, Stage
from screening.models import ScreeningItem
from screening.prioritisation import services as prioritisation


@pytest.mark.django_db
def test_the_ranking_demo_leaves_a_ranked_queue_and_a_stopping_panel(
    django_capture_on_commit_callbacks,
):
    people = {u[0]: _user(u[0], u[1], u[2]) for u in DEMO_USERS}
    with django_capture_on_commit_callbacks(execute=True):
        review = demo_ranking_build(people)
    labels = {" ".join(r["title"].split()): r["label_included"] == "1" for r in rows()}
    items = ScreeningItem.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT)
    settled = items.filter(status__in=[ItemStatus.INCLUDED, ItemStatus.EXCLUDED])
    assert settled.count() == SCREENED
    # Every vote is the published decision of its record.
    for item in settled.select_related("record"):
        assert (item.status == ItemStatus.INCLUDED) == labels[" ".join(item.record.title.split())]
    # Screening in the model's order finds relevant records far faster than import order:
    # 45 of 1,704 are relevant, about 4 in any 150 taken at random.
    found = settled.filter(status=ItemStatus.INCLUDED).count()
    assert found >= 20
    state = prioritisation.ranking_state(review)
    assert state.trained_on == SCREENED and state.relevant == found
    open_items = items.filter(status=ItemStatus.PENDING)
    assert state.ranked == open_items.count() > 1000
    assert not open_items.filter(priority=0).exists()  # the whole queue is ranked
    top = open_items.order_by("-priority").first()
    assert state.why.get(str(top.pk))  # the first record says why it ranks high
    panel = prioritisation.stopping_panel(user=people["lead"], review=review)
    assert panel.screened == SCREENED and panel.relevant == found and not panel.stop
    # The reviewer's screening page hands out the top record with its terms.
    client = Client()
    assert client.login(username="reviewer_a", password=DEMO_PASSWORD)
    page = client.get(f"/reviews/{RANKING_SLUG}/screening/title-abstract/screen/")
    assert page.status_code == 200
    text = " ".join(page.content.decode().split())
    assert " ".join(top.record.title.split())[:40] in text
    assert state.why[str(top.pk)][0] in text  # with the terms that put it there
    print(f"relevant found in the first {SCREENED}: {found}")
