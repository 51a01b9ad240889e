"""The demo review's protocol: written, registered and amended once, through the services.

One step of the demo review (``demo/build.py`` runs the steps in PRISMA order, this one right
after the team). The registration is a demonstration: registry "Other", an id that says so and
no URL; never a real registry's number. Version 1 plans five databases, Web of Science among
them (the demo never searches it, so the deviation report has something to say); the amendment
adds Lens, which the searches step imports.
"""

from __future__ import annotations

import datetime as dt

from reviews.models import Review
from reviews.protocol import services
from reviews.protocol.constants import Registry

DEMO_REGISTRATION_ID = "DEMO-2022-001"
DEMO_REGISTRY_NAME = "Demonstration only (not registered anywhere)"
DEMO_REGISTERED_ON = dt.date(2022, 11, 21)
DEMO_AMENDED_ON = dt.date(2022, 12, 5)
AMENDMENT_RATIONALE = (
    "Lens (lens.org) was added as a source before the searches were run: it indexes records "
    "from Crossref, PubMed and Microsoft Academic, including reports outside the bibliographic "
    "databases planned, which a scoping search found for gambling harms. It was searched on "
    "the same day as the other databases."
)

PROTOCOL = {
    "administrative": {
        "title": "Gambling harms: a demonstration review",
        "authors": "Lena Lead (lead), Ana Reviewer and Ben Reviewer (screening and extraction), "
        "Sam Statistician (analysis). A demonstration team of the Evident workbench.",
        "contact": "Lena Lead (the demonstration's lead)",
        "funding": "None: a demonstration.",
        "conflicts": "None.",
        "start_date": "2022-11",
        "completion_date": "2023-12",
    },
    "background": {
        "text": "Gambling is common among adults, and a minority experience harms that reach "
        "beyond gambling itself: to health, to finances and to relationships. Estimates of "
        "how strongly gambling is associated with each kind of harm are scattered across "
        "public-health, psychology and criminology literatures.\n\n"
        "This review brings them together. (It is the demonstration review of Evident, built "
        "on the search results of CiteSource's gambling-harms example.)"
    },
    "objectives": {
        "text": "To identify the harms to health, finances and relationships associated with "
        "gambling among adults, and to estimate the size of these associations."
    },
    "question": {
        "review_question": "Among adults who gamble, which harms to health, finances and "
        "relationships are associated with gambling, and how large are these associations?",
        "condition": "Gambling and gambling-related harm.",
        "population": "Adults (18 years or older) who gamble, in the general population or in "
        "clinical or treatment-seeking samples.",
        "intervention": "Exposure: gambling, measured as participation, frequency, expenditure "
        "or problem-gambling severity (e.g. PGSI, SOGS).",
        "comparator": "Adults who do not gamble, or who gamble less or without problems.",
        "outcomes_main": "Harms to health (mental and physical health, suicidality), to "
        "finances (debt, bankruptcy, financial hardship) and to relationships (conflict, "
        "separation, intimate-partner violence).",
        "outcomes_additional": "Criminal justice involvement; harms to work or study.",
        "study_designs": "Cohort, case-control and cross-sectional studies reporting an "
        "association between gambling and a harm.",
        "context": "Any country and setting.",
    },
    "eligibility": {
        "inclusion": [
            "Adults (18 years or older) who gamble, or samples that report adults separately",
            "Gambling measured as participation, frequency, expenditure or severity",
            "At least one harm to health, finances or relationships reported",
            "An association between gambling and the harm reported, or data to compute it",
        ],
        "exclusion": [
            "Participants under 18 only",
            "Harms to family members only, with no data on the person who gambles",
            "No measure of harm",
            "Review, protocol, commentary or editorial",
            "Animal or laboratory study",
        ],
        "languages": "English",
        "years": "Any",
        "notes": "Records are screened on title and abstract by two reviewers, blinded, and "
        "conflicts resolved by the lead.",
    },
    "information_sources": {
        "databases": [
            "Scopus",
            "MEDLINE",
            "APA PsycInfo",
            "Criminal Justice Abstracts",
            "Web of Science Core Collection",
        ],
        "registers": [],
        "other": "Reference lists of included studies.",
        "coverage": "From inception to the date of the search.",
    },
    "search_strategy": {
        "text": "Gambling terms (gambl*, betting, wager*, casino*, lotter*, poker) combined with "
        "harm terms (harm*, debt*, financial, suicid*, depress*, anxiety, relationship*, "
        "divorce, violence, crime). The full strategy of each database will be reported with "
        "the review (PRISMA-S).",
        "url": "",
    },
    "selection": {
        "text": "Two reviewers screen every title and abstract independently, blinded to each "
        "other's decisions; disagreements are resolved by the lead. Full texts of the records "
        "included are assessed the same way, with the reason for each exclusion recorded."
    },
    "data_collection": {
        "text": "Two reviewers extract data independently into a piloted form; disagreements "
        "are resolved by discussion."
    },
    "data_items": {
        "text": "Study design, country, sample size, population, gambling measure, harm "
        "measure, the association reported (odds ratio with its confidence interval, or the "
        "data to compute one) and the covariates adjusted for."
    },
    "risk_of_bias": {
        "tool": "robins_e",
        "method": "Two reviewers judge each study independently with ROBINS-E; disagreements "
        "are resolved by discussion.",
    },
    "synthesis": {
        "effect_measure": "OR",
        "model": "random",
        "tau2_estimator": "REML",
        "knapp_hartung": True,
        "heterogeneity": "Q test, I-squared and tau-squared, with a 95% prediction interval.",
        "subgroups": [
            {
                "name": "Harm domain",
                "variable": "harm_domain",
                "description": "Health, finances or relationships.",
            },
            {
                "name": "Sample",
                "variable": "sample_type",
                "description": "General population or treatment-seeking.",
            },
        ],
        "sensitivity": [
            {"name": "Leave-one-out", "description": "Each study left out in turn."},
            {
                "name": "Low risk of bias only",
                "description": "Studies judged at low or some concerns in ROBINS-E.",
            },
        ],
        "publication_bias": ["funnel", "egger", "trimfill"],
        "narrative": "Harms that cannot be pooled are summarised narratively by domain (SWiM).",
    },
    "certainty": {"text": "GRADE for each harm domain."},
    "additional": {
        "text": "This protocol is part of a demonstration: its registration is not real."
    },
}


def step_protocol(review: Review, people: dict) -> None:
    lead = people["lead"]
    services.draft_save(actor=lead, review=review, content=PROTOCOL)
    services.protocol_register(
        actor=lead,
        review=review,
        registry=Registry.OTHER,
        registry_name=DEMO_REGISTRY_NAME,
        registration_id=DEMO_REGISTRATION_ID,
        registered_on=DEMO_REGISTERED_ON,
    )
    databases = [*PROTOCOL["information_sources"]["databases"], "Lens"]
    services.draft_save(
        actor=lead,
        review=review,
        content={"information_sources": {"databases": databases}},
        partial=True,
    )
    services.amendment_publish(
        actor=lead, review=review, rationale=AMENDMENT_RATIONALE, amended_on=DEMO_AMENDED_ON
    )
