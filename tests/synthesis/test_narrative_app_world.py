"""The narrative synthesis's sample object for the persona walk (tests/reviews/routes.py,
persona_world.py): no tests here."""

from __future__ import annotations


def sample_narrative(review) -> int:
    """A narrative synthesis of ``review`` (made once) with one direction set by hand."""
    from synthesis.narrative.models import NarrativeDirection, NarrativeSynthesis

    found = NarrativeSynthesis.objects.filter(review=review).first()
    if found is None:
        found = NarrativeSynthesis.objects.create(
            review=review,
            name="Sample narrative synthesis",
            selection="all",
            outcomes=[{"outcome": "Tuberculosis", "favourable": "lower", "combine": ""}],
        )
        NarrativeDirection.objects.create(
            review=review,
            synthesis=found,
            study="Walked 2020",
            outcome="Tuberculosis",
            direction="beneficial",
            reason="Sample.",
            set_by_name="lead",
        )
    return found.pk
