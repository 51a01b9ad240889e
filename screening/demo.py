"""The demo review's screening step: screening in progress, with conflicts to resolve.

Built through the same services a team uses (``demo/build.py`` runs the steps in PRISMA
order). Two reviewers screen the first records independently, blinded; they disagree on three,
a lead resolves two of them and one is left in the conflict queue. The records they include go
on to full text, where one report has a link and a first vote and one could not be obtained.
"""

from __future__ import annotations

from identification.models import Record
from reviews import services as review_services
from reviews.constants import ReviewStatus
from reviews.models import Review
from screening import services
from screening.constants import ItemStatus, Stage
from screening.fulltext import services as fulltext
from screening.models import ExclusionReason, ScreeningItem
from screening.prioritisation import services as prioritisation

# One decision per record, in the order the reviewers are given records; they disagree on the
# third, sixth and eighth record (the sixth with a Maybe).
_A = ["include", "exclude", "exclude", "include", "exclude", "maybe", "exclude", "include"]
_A += ["exclude", "exclude", "include", "exclude", "exclude", "exclude"]
_B = ["include", "exclude", "include", "include", "exclude", "include", "exclude", "exclude"]
_B += ["exclude", "exclude", "include", "exclude"]
_NOTES = {
    2: "Reports harms in family members only; check the population criteria.",
    5: "Abstract too short to judge.",
    7: "Adolescents, not adults?",
}


def step_screening(review: Review, people: dict) -> None:
    lead, reviewer_a, reviewer_b = people["lead"], people["reviewer_a"], people["reviewer_b"]
    if not Record.objects.of_review(review).primary().exists():
        # Run on its own (without the import step before it), the step brings its records.
        from identification.demo import step_searches

        step_searches(review, people)
    services.settings_update(
        actor=lead,
        review=review,
        reviewers_per_record=2,
        blinded=True,
        include_keywords="gambl*\nharm*\ndebt*\nsuicid*\nfinancial",
        exclude_keywords="animal*\nprotocol\nsystematic review\nmeta-analys?s\nrat?",
    )
    services.screening_prepare(review=review)
    ta = Stage.TITLE_ABSTRACT
    screened = []
    for n, decision in enumerate(_A):
        item = services.assignment_next(user=reviewer_a, review=review, stage=ta)
        if item is None:
            break
        screened.append(item)
        services.vote_cast(
            user=reviewer_a, review=review, item=item, decision=decision, note=_NOTES.get(n, "")
        )
    for decision in _B:
        item = services.assignment_next(user=reviewer_b, review=review, stage=ta)
        if item is None:
            break
        services.vote_cast(user=reviewer_b, review=review, item=item, decision=decision)
    # The lead settles two of the three conflicts; the third waits in the queue.
    for index, decision in ((2, "exclude"), (5, "include")):
        if index < len(screened):
            item = screened[index]
            item.refresh_from_db()
            if item.status == "conflict":
                services.conflict_resolve(
                    user=lead,
                    review=review,
                    item=item,
                    decision=decision,
                    note="Discussed at the weekly screening meeting.",
                )
    full_text = list(
        ScreeningItem.objects.of_review(review)
        .at(Stage.FULL_TEXT)
        .primary(review)
        .select_related("record")
        .order_by("pk")
    )
    if full_text:
        first = full_text[0]
        doi = first.record.doi
        url = f"https://doi.org/{doi}" if doi else "https://example.org/full-text.pdf"
        fulltext.report_attach(user=lead, review=review, item=first, url=url)
        services.vote_cast(
            user=reviewer_a,
            review=review,
            item=first,
            decision="include",
            note="Reports financial and relationship harms in adults.",
        )
    if len(full_text) > 1:
        fulltext.report_not_retrieved(
            user=lead,
            review=review,
            item=full_text[-1],
            reason="Requested through interlibrary loan; not received.",
        )


# Words that make the demo's reviewers include a title (the demo needs decisions, not wisdom).
_ON_TOPIC = ("harm", "debt", "suicid", "financ", "problem gambling", "wellbeing", "well-being")
_OFF_TOPIC = ("protocol", "systematic review", "meta-analy", "scoping review", "editorial")


def _verdict(record) -> str:
    title = (record.title or "").lower()
    on = any(w in title for w in _ON_TOPIC) and not any(w in title for w in _OFF_TOPIC)
    return "include" if on else "exclude"


def step_finish_screening(review: Review, people: dict) -> None:
    """Screen the rest: every record voted on twice, full texts assessed.

    One title/abstract conflict (left by ``step_screening``) stays for a person to resolve, so
    the demo shows screening in progress while its PRISMA diagram adds up.
    """
    lead, a, b = people["lead"], people["reviewer_a"], people["reviewer_b"]
    ta, ft = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
    ta_reasons = list(
        ExclusionReason.objects.filter(review=review, stage=ta, active=True).order_by("position")
    )
    for user in (a, b):
        while (item := services.assignment_next(user=user, review=review, stage=ta)) is not None:
            decision = _verdict(item.record)
            reason = ta_reasons[item.record_id % len(ta_reasons)] if decision == "exclude" else None
            services.vote_cast(
                user=user, review=review, item=item, decision=decision, reason=reason
            )
    # The lead settles every conflict but the first, which waits in the queue for a person.
    conflicts = ScreeningItem.objects.filter(review=review, stage=ta, status=ItemStatus.CONFLICT)
    for item in conflicts.order_by("pk").select_related("record")[1:]:
        services.conflict_resolve(
            user=lead, review=review, item=item, decision=_verdict(item.record), note="Agreed."
        )
    ft_reasons = list(
        ExclusionReason.objects.filter(review=review, stage=ft, active=True).order_by("position")
    )
    items = ScreeningItem.objects.filter(review=review, stage=ft).select_related("record")
    for n, item in enumerate(items.order_by("pk")):
        if item.status != ItemStatus.PENDING:
            continue
        record = item.record
        if n % 9 == 4:
            fulltext.report_not_retrieved(
                user=lead, review=review, item=item, reason="Not held by any library we asked."
            )
            continue
        if not hasattr(record, "fulltext_report"):
            url = (
                f"https://doi.org/{record.doi}"
                if record.doi
                else f"https://example.org/{record.pk}"
            )
            fulltext.report_attach(user=lead, review=review, item=item, url=url)
        voted = set(item.votes.values_list("reviewer_id", flat=True))
        decision = "include" if n % 3 == 0 else "exclude"
        if a.pk in voted:
            decision = item.votes.get(reviewer=a).decision
        reason = ft_reasons[n % len(ft_reasons)] if decision == "exclude" else None
        for user in (a, b):
            if user.pk not in voted:
                item.refresh_from_db()
                services.vote_cast(
                    user=user, review=review, item=item, decision=decision, reason=reason
                )
    review_services.review_update(user=lead, review=review, status=ReviewStatus.SCREENING)


def step_stop_decision(review: Review, people: dict) -> None:
    """The lead records why title/abstract screening stopped (the stopping panel's numbers are
    stored with it), after the queue was screened in the model's order: every few settled
    records the votes queued a retraining, so the demo's queue was ranked all along."""
    prioritisation.retrain(review)
    prioritisation.stop_decide(
        actor=people["lead"],
        review=review,
        reason="Every record was screened by two reviewers; the stopping test is shown for "
        "the methods section.",
    )
