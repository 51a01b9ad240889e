"""Pages of risk of bias, under ``reviews/<slug>/extraction/rob/``.

Thin: each view finds the review (404 for outsiders), the study (404 for a forged id), calls one
service or selector and answers with a page, an htmx fragment or a redirect; a refused change
says why and changes nothing. Blinding as ``extraction.rob.selectors.sees_all_assessments``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.forms import messages_of, refuse
from extraction.models import Study
from extraction.rob import exports, selectors, services
from extraction.rob.models import RobTool
from reviews.access import has_role, may_open, require_role, review_for_user, scoped_get


def _outcome(request) -> str:
    value = request.POST.get("outcome") if request.method == "POST" else None
    if value is None:
        value = request.GET.get("outcome", "")
    return value[:200]


def _with_outcome(url: str, outcome: str) -> str:
    from urllib.parse import urlencode

    return f"{url}?{urlencode({'outcome': outcome})}" if outcome else url


@login_required
@require_safe
def home(request, slug: str):
    """Every study's risk-of-bias status, the consensus judgements, the figures and exports."""
    review = review_for_user(user=request.user, slug=slug)
    settings = selectors.settings_of(review)
    tool = None
    try:
        tool = selectors.tool_of(settings)
    except (ImportError, KeyError):  # the engine is missing: say so rather than fail
        tool = None
    table = selectors.domain_table(review) if tool else []
    context = {
        "review": review,
        "section": "rob",
        "settings": settings,
        "tool": tool,
        "rows": selectors.overview(review),
        "table": table,
        "domains": tool["domains"] if tool else [],
        "may_assess": selectors.may_assess(request.user, review),
        "may_settings": may_open(user=request.user, review=review, page="rob_settings"),
    }
    return render(request, "extraction/rob/home.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def settings_page(request, slug: str):
    """A lead chooses the tool (RoB 2, ROBINS-I or a custom one) and per study or per outcome."""
    review = review_for_user(user=request.user, slug=slug)
    require_role(
        user=request.user,
        review=review,
        roles=services.SETTINGS_ROLES,
        action="set up risk of bias",
    )
    settings = selectors.settings_of(review)
    if request.method == "POST":
        try:
            services.settings_save(
                actor=request.user,
                review=review,
                tool=request.POST.get("tool", ""),
                per_outcome=request.POST.get("per_outcome") == "1",
                custom_name=request.POST.get("custom_name", ""),
                custom_domains=request.POST.get("custom_domains", ""),
                custom_judgements=request.POST.get("custom_judgements", ""),
                custom_high=request.POST.getlist("custom_high")
                or request.POST.get("custom_high_text", ""),
            )
        except ValidationError as exc:
            refuse(request, exc)
        else:
            messages.success(request, "Risk-of-bias settings saved.")
        return redirect("extraction:rob_settings", slug=review.slug)
    context = {
        "review": review,
        "section": "rob",
        "settings": settings,
        "tools": RobTool.choices,
        "started": review.rob_assessments.exists(),
        "domains_text": "\n".join(d["name"] for d in settings.custom_domains),
        "judgements_text": "\n".join(settings.custom_judgements),
        "high_text": "\n".join(settings.custom_high),
    }
    return render(request, "extraction/rob/settings.html", context)


def _posted(request, tool: dict) -> dict:
    """The assessment fields of a posted form: ``answer:D1:1.1``, ``support:D1:1.1``,
    ``judgement:D1``, ``justification:D1``, ``overall``, ``overall_justification``."""
    answers: dict = {}
    support: dict = {}
    judgements: dict = {}
    keys = {d["id"] for d in tool["domains"]}
    for name, value in request.POST.items():
        head, _, rest = name.partition(":")
        key, _, qid = rest.partition(":")
        if head in ("answer", "support", "judgement", "justification") and key not in keys:
            answers.setdefault(key, {})  # an unknown domain: the service refuses it by name
            continue
        if head == "answer":
            answers.setdefault(key, {})[qid] = value
        elif head == "support":
            support.setdefault(key, {})[qid] = value
        elif head == "judgement":
            judgements.setdefault(key, {})["judgement"] = value
        elif head == "justification":
            judgements.setdefault(key, {})["justification"] = value
    for d in tool["domains"]:
        if d["id"] in judgements or any(n.startswith(f"judgement:{d['id']}") for n in request.POST):
            judgements.setdefault(d["id"], {}).setdefault("judgement", "")
    return {
        "d2_variant": request.POST.get("d2_variant", ""),
        "answers": answers,
        "support": support,
        "judgements": judgements,
        "overall": {
            "judgement": request.POST.get("overall", ""),
            "justification": request.POST.get("overall_justification", ""),
        },
    }


def layout_of(tool: dict, assessment) -> list[dict]:
    """Each domain with its questions (asked or not, given the answers), answers, support,
    the proposed and final judgement and any justification, for the assessment page."""
    from extraction.rob import engine

    out = []
    variant = assessment.d2_variant if assessment else ""
    for d in tool["domains"]:
        key = d["id"]
        engine_id = selectors.engine_domain(tool, key, variant or "assignment")
        given = (assessment.answers.get(key) if assessment else None) or {}
        texts = (assessment.support.get(key) if assessment else None) or {}
        judged = (assessment.domains.get(key) if assessment else None) or {}
        questions, has_algorithm = [], False
        if engine_id:
            dom = next(x for x in engine.TOOLS[tool["key"]].domains if x.id == engine_id)
            has_algorithm = dom.has_algorithm
            try:
                asked = set(engine.questions_asked(tool["key"], engine_id, given))
            except (engine.RobAnswerError, ValueError):
                asked = {q.id for q in dom.questions}
            for q in dom.questions:
                questions.append(
                    {
                        "id": q.id,
                        "text": q.text,
                        "answers": q.answers,
                        "asked": q.id in asked,
                        "asked_when": q.asked_when,
                        "answer": given.get(q.id, ""),
                        "support": texts.get(q.id, ""),
                    }
                )
        out.append(
            {
                "id": key,
                "name": d["name"],
                "variants": [v for v in d["variants"] if v],
                "questions": questions,
                "algorithm": has_algorithm,
                "proposed": judged.get("proposed"),
                "judgement": judged.get("judgement", ""),
                "justification": judged.get("justification", ""),
                "overridden": bool(judged.get("justification")) and has_algorithm,
                "support": texts.get(services.DOMAIN_SUPPORT, ""),
            }
        )
    return out


def _assess_context(request, review, study, outcome, error: str = "") -> dict:
    settings = selectors.settings_of(review)
    tool = selectors.tool_of(settings)
    mine = selectors.own_assessment(request.user, study, outcome)
    may = selectors.may_assess(request.user, review)
    return {
        "review": review,
        "section": "rob",
        "study": study,
        "outcome": outcome,
        "settings": settings,
        "tool": tool,
        "mine": mine,
        "layout": layout_of(tool, mine),
        "variants": selectors.D2_VARIANTS,
        "variant": (mine.d2_variant if mine else "") or "assignment",
        "has_variants": any(len(d["variants"]) > 1 for d in tool["domains"]),
        "may_assess": may,
        "can_edit": may
        and not (mine and mine.done)
        and selectors.consensus_of(study, outcome) is None,
        "status": selectors.status_of(list(selectors.assessments_of(study, outcome))),
        "outcomes": selectors.outcome_names(review) if settings.per_outcome else [],
        "error": error,
        "missing": services.missing_for_done(tool, mine) if mine and not mine.done else [],
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def assess(request, slug: str, pk: int):
    """One assessor's page: each domain's signalling questions (those not asked given the
    answers so far are hidden and stored NA: the server decides), answers with support, the
    proposed judgement, an override only with a justification, the overall likewise. htmx
    posts the whole form on each change and swaps the re-judged form in."""
    review = review_for_user(user=request.user, slug=slug)
    study = scoped_get(Study.objects.all(), review=review, pk=pk)
    outcome = _outcome(request)
    if request.method == "POST":
        require_role(
            user=request.user,
            review=review,
            roles=services.ASSESS_ROLES,
            action="assess risk of bias",
        )
        tool = selectors.tool_of(selectors.settings_of(review))
        error = ""
        try:
            services.assessment_save(
                actor=request.user,
                review=review,
                study=study,
                outcome=outcome,
                **_posted(request, tool),
            )
        except ValidationError as exc:
            error = " ".join(messages_of(exc))
        if request.headers.get("HX-Request"):
            context = _assess_context(request, review, study, outcome, error)
            # 200 either way: htmx swaps only successful answers, and the fragment says "Not
            # saved" with the reason (the stored assessment, unchanged, is shown again).
            return render(request, "extraction/rob/_assess_form.html", context)
        if error:
            messages.error(request, f"Not saved: {error}")
        else:
            messages.success(request, "Saved.")
        return redirect(
            _with_outcome(reverse("extraction:rob_assess", args=[review.slug, study.pk]), outcome)
        )
    if outcome:
        try:
            services.clean_outcome(review, selectors.settings_of(review), outcome)
        except ValidationError:
            raise Http404("No such outcome.") from None
    return render(
        request, "extraction/rob/assess.html", _assess_context(request, review, study, outcome)
    )


@login_required
@require_POST
def assess_done(request, slug: str, pk: int):
    review = review_for_user(user=request.user, slug=slug)
    study = scoped_get(Study.objects.all(), review=review, pk=pk)
    outcome = _outcome(request)
    done = request.POST.get("done", "1") != "0"
    try:
        services.assessment_mark(
            actor=request.user, review=review, study=study, outcome=outcome, done=done
        )
    except ValidationError as exc:
        refuse(request, exc)
    else:
        messages.success(request, "Marked done." if done else "Reopened.")
    return redirect(
        _with_outcome(reverse("extraction:rob_assess", args=[review.slug, study.pk]), outcome)
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def compare(request, slug: str, pk: int):
    """Both assessments side by side (hidden from an assessor until both are done), every
    differing answer and judgement highlighted; a lead or a member who did not assess picks A
    or B per domain or judges anew with a justification. Members who do not assess read the
    finished consensus only."""
    review = review_for_user(user=request.user, slug=slug)
    study = scoped_get(Study.objects.all(), review=review, pk=pk)
    outcome = _outcome(request)
    if request.method == "POST":
        if not services.may_make_consensus(
            user=request.user, review=review, study=study, outcome=outcome if outcome else ""
        ):
            raise PermissionDenied("A lead or a member who did not assess makes the consensus.")
        picks = {}
        for name, value in request.POST.items():
            if name.startswith("pick:") and value:
                key = name[5:]
                picks[key] = {
                    "pick": value,
                    "judgement": request.POST.get(f"judgement:{key}", ""),
                    "justification": request.POST.get(f"justification:{key}", ""),
                }
        try:
            services.consensus_save(
                actor=request.user,
                review=review,
                study=study,
                outcome=outcome,
                picks=picks,
                overall={
                    "judgement": request.POST.get("overall", ""),
                    "justification": request.POST.get("overall_justification", ""),
                },
                finish=bool(request.POST.get("finish")),
            )
        except ValidationError as exc:
            refuse(request, exc)
        else:
            messages.success(request, "Consensus saved.")
        return redirect(
            _with_outcome(reverse("extraction:rob_compare", args=[review.slug, study.pk]), outcome)
        )
    settings = selectors.settings_of(review)
    tool = selectors.tool_of(settings)
    visible = selectors.sees_all_assessments(request.user, review, study, outcome)
    pair = selectors.visible_assessments(request.user, review, study, outcome) if visible else []
    done = [a for a in pair if a.done][:2]
    rows = selectors.comparison(done[0], done[1], tool) if len(done) == 2 else []
    consensus = selectors.visible_consensus(request.user, review, study, outcome)
    context = {
        "review": review,
        "section": "rob",
        "study": study,
        "outcome": outcome,
        "tool": tool,
        "visible": visible,
        "pair": pair,
        "rows": rows,
        "consensus": consensus,
        "consensus_layout": layout_of(tool, consensus) if consensus else [],
        "status": selectors.status_of(list(selectors.assessments_of(study, outcome))),
        "may_resolve": len(done) == 2
        and services.may_make_consensus(
            user=request.user, review=review, study=study, outcome=outcome
        ),
    }
    return render(request, "extraction/rob/compare.html", context)


@login_required
@require_safe
def export(request, slug: str):
    """The consensus table as CSV or XLSX (``?format=``), one row per study (and outcome)."""
    review = review_for_user(user=request.user, slug=slug)
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FORMATS:
        messages.error(request, "Choose csv or xlsx.")
        return redirect("extraction:rob", slug=review.slug)
    body, media, name = exports.table_file(review, fmt)
    response = HttpResponse(body, content_type=media)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_safe
def figures(request, slug: str):
    """The traffic-light and summary plots of the finished consensus, with downloads."""
    review = review_for_user(user=request.user, slug=slug)
    table = selectors.domain_table(review)
    context = {
        "review": review,
        "section": "rob",
        "table": table,
        "kinds": exports.FIGURES,
    }
    return render(request, "extraction/rob/figures.html", context)


@login_required
@require_safe
def figure(request, slug: str, rob_figure: str, fmt: str):
    """One figure as SVG or PNG (cached by the table's fingerprint); 404 for anything else."""
    kind = rob_figure
    review = review_for_user(user=request.user, slug=slug)
    if kind not in exports.FIGURES or fmt not in exports.FIGURE_FORMATS:
        raise Http404("No such figure.")
    if not selectors.domain_table(review):
        raise Http404("No finished consensus assessment yet.")
    body = exports.figure_bytes(review, kind, fmt)
    response = HttpResponse(body, content_type=exports.FIGURE_FORMATS[fmt])
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="risk-of-bias-{kind}.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    if fmt == "svg":
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def may_assess_link(user, review) -> bool:
    return has_role(user=user, review=review, roles=services.ASSESS_ROLES)
