"""The demo review's screening step: screening in progress, with conflicts to resolve.

Built through the same services a team uses (``demo/build.py`` runs the steps in PRISMA
order). Two reviewers screen the first records independently, blinded; they disagree on three,
a lead resolves two of them and one is left in the conflict queue. The records they include go
on to full text, where one report has a link and a first vote and one could not be obtained.
"""

from __future__ import annotations

from reviews.models import Review
from screening import selectors, services
from screening.constants import Stage

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
    if not selectors.screenable_records(review).exists():
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
        selectors.items_of(review, Stage.FULL_TEXT).select_related("record").order_by("pk")
    )
    if full_text:
        first = full_text[0]
        doi = first.record.doi
        url = f"https://doi.org/{doi}" if doi else "https://example.org/full-text.pdf"
        services.report_attach(user=lead, review=review, item=first, url=url)
        services.vote_cast(
            user=reviewer_a,
            review=review,
            item=first,
            decision="include",
            note="Reports financial and relationship harms in adults.",
        )
    if len(full_text) > 1:
        services.report_not_retrieved(
            user=lead,
            review=review,
            item=full_text[-1],
            reason="Requested through interlibrary loan; not received.",
        )
