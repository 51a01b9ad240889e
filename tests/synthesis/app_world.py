"""A review with a finalised extraction snapshot of the 13 BCG trials (metadat's dat.bcg), for
the synthesis app's tests; the snapshot holds what finalising would freeze (values and the
effect sizes of ``extraction.effects``), written directly to keep the tests quick."""

from __future__ import annotations

from demo.bcg import _values, trials
from extraction.effects import row_effects
from extraction.models import ExtractionSnapshot
from reviews import services as review_services
from reviews.constants import Role
from reviews.protocol.sections import fingerprint
from tests.conftest import make_user


def bcg_studies(extra_outcome: bool = False) -> list[dict]:
    studies = []
    for t in trials():
        values = _values(t) | {"alloc": t["alloc"], "ablat": t["ablat"]}
        if extra_outcome:
            # A second comparison of the same outcome: two rows for one study.
            values |= {
                "arms.2.name": "Placebo",
                "results.1.outcome": "1",
                "results.1.arm1": "1",
                "results.1.arm2": "3",
                "results.1.ai": values["results.0.ai"],
                "results.1.n1i": values["results.0.n1i"],
                "results.1.ci": values["results.0.ci"],
                "results.1.n2i": values["results.0.n2i"],
            }
        studies.append(
            {
                "label": f"{t['author']} {t['year']}",
                "reports": [f"{t['author']} ({t['year']}). BCG trial {t['trial']}"],
                "form_version": 1,
                "values": values,
                "effects": row_effects(values),
            }
        )
    return studies


def snapshot_of(review, studies: list[dict], *, user=None) -> ExtractionSnapshot:
    content = {"studies": studies, "left_out": []}
    latest = ExtractionSnapshot.objects.filter(review=review).order_by("-number").first()
    return ExtractionSnapshot.objects.create(
        review=review,
        number=(latest.number + 1) if latest else 1,
        content=content,
        sha256=fingerprint(content),
        studies=len(studies),
        created_by=user,
    )


def statistician_of(review, lead, name: str = "stats"):
    user = make_user(name)
    review_services.membership_add(
        actor=lead, review=review, identifier=name, roles=[Role.STATISTICIAN]
    )
    return user


def viewer_of(review, lead, name: str = "viewer"):
    user = make_user(name)
    review_services.membership_add(actor=lead, review=review, identifier=name, roles=[Role.VIEWER])
    return user


MAIN = {
    "name": "Main: log RR, REML",
    "outcome": "Tuberculosis",
    "method": "REML",
    "test": "z",
    "level": 95,
}


def sample_objects(review) -> dict[str, int]:
    """An analysis of ``review`` with a stored result and its finished run (a job), made once:
    the sample objects of the synthesis routes (tests/reviews/routes.py, persona_world.py)."""
    from core.constants import JobStatus
    from core.models import Job
    from synthesis import bundle
    from synthesis.constants import JOB_KIND
    from synthesis.models import Analysis, AnalysisResult

    analysis = Analysis.objects.filter(review=review).first()
    if analysis is None:
        analysis = Analysis.objects.create(
            review=review, name="Sample analysis", outcome="Tuberculosis", leave_one_out=True
        )
    result = AnalysisResult.objects.filter(analysis=analysis).first()
    if result is None:
        rows = [
            {"study": "A 2001", "yi": -0.9, "vi": 0.05, "rob": None},
            {"study": "B 2002", "yi": -0.2, "vi": 0.08, "rob": None},
            {"study": "C 2003", "yi": -0.5, "vi": 0.02, "rob": None},
        ]
        spec = {
            "name": analysis.name,
            "measure": "RR",
            "method": "REML",
            "test": "z",
            "level": 95.0,
            "subgroup": None,
            "moderators": [],
            "sensitivity": {"leave_one_out": True, "without_high_rob": False, "filters": []},
            "publication_bias": True,
            "high_rob": [],
        }
        results = bundle.run(spec, rows)
        result = AnalysisResult.objects.create(
            review=review,
            analysis=analysis,
            snapshot_number=1,
            snapshot_sha256="0" * 64,
            engine=results["engine"],
            inputs={"spec": spec, "rows": rows},
            results=results,
            sha256=fingerprint(results),
        )
    job = Job.objects.filter(review=review, kind=JOB_KIND).first()
    if job is None:
        job = Job.objects.create(
            review=review,
            kind=JOB_KIND,
            params={"analysis": analysis.pk},
            status=JobStatus.SUCCEEDED,
            progress=100,
            result={"analysis": analysis.pk, "result": result.pk},
        )
    return {"analysis": analysis.pk, "analysis_result": result.pk, "analysis_run": job.pk}


def finalised_through_services(review, lead, n: int = 6):
    """The first ``n`` BCG trials extracted twice, reconciled and finalised through the
    extraction services (as a team does): the snapshot analyses run on."""
    from extraction import services as extraction
    from extraction.models import Study

    a, b = make_user("ext_a"), make_user("ext_b")
    for user in (a, b):
        review_services.membership_add(
            actor=lead, review=review, identifier=user.username, roles=[Role.EXTRACTOR]
        )
    extraction.form_use_template(actor=lead, review=review)
    extraction.form_publish(actor=lead, review=review)
    for t in trials()[:n]:
        study = Study.objects.create(review=review, label=f"{t['author']} {t['year']}")
        for user in (a, b):
            extraction.extraction_save(actor=user, review=review, study=study, values=_values(t))
            extraction.extraction_mark(actor=user, review=review, study=study, done=True)
        extraction.consensus_save(actor=lead, review=review, study=study, picks={}, finish=True)
    return extraction.snapshot_finalise(actor=lead, review=review)
