"""The protocol's pages, under ``/reviews/<slug>/protocol/``. Every member reads every version,
draft included; only leads write, register and amend. Thin: the services decide."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.forms import apply_errors
from reviews.access import has_role, require_role, review_for_user, scoped_get
from reviews.constants import Role
from reviews.models import Review
from reviews.protocol import documents, selectors, services
from reviews.protocol.diff import diff_contents
from reviews.protocol.forms import AmendForm, DiffForm, ProtocolForm, RegisterForm
from reviews.protocol.models import ProtocolVersion
from reviews.protocol.sections import SECTION_TITLES, sections_changed

SECTION = "protocol"
DOWNLOADS = documents.DOWNLOADS


def _context(request, review: Review, **extra) -> dict:
    return {
        "review": review,
        "section": SECTION,
        "is_lead": has_role(user=request.user, review=review, roles=[Role.LEAD]),
        **extra,
    }


def _lead(request, review: Review, action: str) -> None:
    require_role(user=request.user, review=review, roles=[Role.LEAD], action=action)


def _titles(keys) -> list[str]:
    return [SECTION_TITLES.get(k, str(k)) for k in keys or []]


@login_required
@require_safe
def protocol_home(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    versions = list(selectors.versions_of(review).order_by("number"))
    rows = [
        {
            "version": v,
            "check": selectors.fingerprint_check(v),
            "changed": _titles(v.sections_changed),
        }
        for v in versions
    ]
    current = selectors.current_version(review)
    draft = next((v for v in versions if v.is_draft), None)
    registered = next((v for v in versions if v.state == "registered"), None)
    context = _context(
        request,
        review,
        rows=rows,
        current=current,
        draft=draft,
        registered=registered,
        current_sections=documents.display_sections(current.content) if current else [],
    )
    return render(request, "reviews/protocol/home.html", context)


def _edit_content(review: Review) -> dict:
    """What the editor starts from: the draft, else the latest frozen version (an amendment
    starts from it), else the review's own title and question."""
    draft = selectors.draft_of(review)
    if draft is not None:
        return draft.content
    current = selectors.current_version(review)
    if current is not None:
        return current.content
    return {
        "administrative": {"title": review.title},
        "question": {"review_question": review.research_question},
    }


@login_required
@require_http_methods(["GET", "POST"])
def protocol_edit(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    _lead(request, review, "edit the protocol")
    posted = request.POST if request.method == "POST" else None
    form = ProtocolForm(posted, content=_edit_content(review))
    if posted is not None and not any(name in posted for name in form.fields):
        # A body without one field of the form (a real form sends them all, empty or not)
        # would empty the whole protocol: refused.
        form.add_error(None, "Nothing of the protocol was sent; nothing was saved.")
    elif posted is not None and form.is_valid():
        try:
            draft = services.draft_save(
                actor=request.user, review=review, content=form.to_content()
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            if draft.kind == "amendment":
                messages.success(
                    request,
                    f"Saved as the draft of amendment {draft.number}. Publish it with a "
                    "rationale when it is ready.",
                )
            else:
                messages.success(request, "Protocol draft saved.")
            return redirect("protocol:home", slug=review.slug)
    registered = selectors.registered_version(review)
    context = _context(request, review, form=form, registered=registered)
    return render(
        request, "reviews/protocol/edit.html", context, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def protocol_register(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    _lead(request, review, "register the protocol")
    registered = selectors.registered_version(review)
    draft = selectors.draft_of(review)
    form = RegisterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.protocol_register(
                actor=request.user, review=review, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"Version {version.number} registered and frozen; its SHA-256 fingerprint "
                f"is {version.fingerprint}.",
            )
            return redirect("protocol:home", slug=review.slug)
    context = _context(request, review, form=form, registered=registered, draft=draft)
    return render(
        request, "reviews/protocol/register.html", context, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def protocol_amend(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    _lead(request, review, "amend the protocol")
    draft = selectors.draft_of(review)
    previous = selectors.current_version(review) if draft is not None else None
    if previous is not None and previous.pk == draft.pk:
        previous = None  # a protocol never registered: nothing to amend
    form = AmendForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.amendment_publish(
                actor=request.user, review=review, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                f"Amendment {version.number} published and frozen ("
                f"{', '.join(_titles(version.sections_changed))} changed).",
            )
            return redirect("protocol:home", slug=review.slug)
    changed = []
    if draft is not None and previous is not None:
        changed = _titles(sections_changed(previous.content, draft.content))
    context = _context(request, review, form=form, draft=draft, previous=previous, changed=changed)
    return render(
        request, "reviews/protocol/amend.html", context, status=400 if form.errors else 200
    )


@login_required
@require_POST
def protocol_discard(request, slug: str):
    review = review_for_user(user=request.user, slug=slug)
    _lead(request, review, "edit the protocol")
    try:
        services.draft_discard(actor=request.user, review=review)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Draft discarded.")
    return redirect("protocol:home", slug=review.slug)


def _version(request, slug: str, pk) -> tuple[Review, ProtocolVersion]:
    review = review_for_user(user=request.user, slug=slug)
    return review, scoped_get(selectors.versions_of(review), review=review, pk=pk)


@login_required
@require_safe
def version_detail(request, slug: str, pk: int):
    review, version = _version(request, slug, pk)
    context = _context(
        request,
        review,
        version=version,
        check=selectors.fingerprint_check(version),
        changed=_titles(version.sections_changed),
        previous=selectors.version_before(version),
        sections=documents.display_sections(version.content),
    )
    return render(request, "reviews/protocol/version.html", context)


@login_required
@require_safe
def version_download(request, slug: str, pk: int):
    """The version as Markdown, HTML or PDF (``?as=md|html|pdf``), in PROSPERO's order."""
    review, version = _version(request, slug, pk)
    fmt = request.GET.get("as", "md")
    if fmt not in DOWNLOADS:
        return HttpResponse(
            "Choose a format: ?as=md, ?as=html or ?as=pdf.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    body, media_type, name = documents.version_file(
        version, review_title=review.title, slug=review.slug, fmt=fmt
    )
    response = HttpResponse(body, content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_safe
def protocol_diff(request, slug: str):
    """Two versions side by side (``?from=N&to=M``; by default the latest against the one
    before it)."""
    review = review_for_user(user=request.user, slug=slug)
    versions = {v.number: v for v in selectors.versions_of(review).order_by("number")}
    numbers = sorted(versions)
    data = request.GET if "from" in request.GET or "to" in request.GET else None
    if data is None and len(numbers) >= 2:
        data = {"from": numbers[-2], "to": numbers[-1]}
    form = DiffForm(data, numbers=numbers)
    diffs, left, right = [], None, None
    if data is not None and form.is_valid():
        left, right = versions[form.cleaned_data["from"]], versions[form.cleaned_data["to"]]
        diffs = diff_contents(left.content, right.content)
    context = _context(
        request, review, form=form, diffs=diffs, left=left, right=right, numbers=numbers
    )
    status = 400 if data is not None and form.errors else 200
    return render(request, "reviews/protocol/diff.html", context, status=status)
