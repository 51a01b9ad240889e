"""Helpers for the Django side of identification's tests."""

from __future__ import annotations

import io

import pytest

from identification import services as imports

RIS = (
    "TY  - JOUR\nTI  - Gambling and <i>debt</i>\nAU  - Smith, J\nAU  - Doe, A\nPY  - 2020\n"
    "DO  - https://doi.org/10.1000/ABC\nSP  - 123\nEP  - 9\nER  - \n\n"
    "TY  - JOUR\nTI  - Lottery play\nAU  - Jones, K\nPY  - 2019\nER  - \n"
)


def upload(lead, review, content: bytes, name: str = "export.ris", **kwargs):
    search = kwargs.pop("search", None) or imports.search_create(
        actor=lead, review=review, database="Scopus"
    )
    return imports.batch_upload(
        actor=lead, search=search, fileobj=io.BytesIO(content), filename=name, **kwargs
    )


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run jobs queued on commit at the end of the ``with`` block, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
