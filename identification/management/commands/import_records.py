"""Import database exports from the command line: one search, one or more files."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from core import jobs
from core.constants import JobStatus
from identification import services as identification
from identification.constants import BatchStatus
from reviews import services
from reviews.constants import Role
from reviews.models import Membership, Review

CLI_USERNAME = "evident-cli"


def _messages(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


class Command(BaseCommand):
    help = (
        "Record a search and import its export files, printing a JSON summary with format, "
        "encoding, parsed, imported and skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--review", required=True, metavar="SLUG")
        parser.add_argument("--create", action="store_true", help="create the review if missing")
        parser.add_argument("--database", required=True)
        parser.add_argument(
            "--kind",
            choices=["database", "register"],
            default="database",
            help="a bibliographic database or a study register (PRISMA counts them apart)",
        )
        parser.add_argument("--platform", default="")
        parser.add_argument("--date", default="", metavar="YYYY-MM-DD")
        parser.add_argument("--query", default="")
        parser.add_argument("--hits", type=int, default=None, help="records the database reported")
        parser.add_argument("--user", default="", help="acting user (default: the review's lead)")
        parser.add_argument(
            "--confirm-duplicate", action="store_true", help="import a file imported before"
        )

    def _actor(self, review: Review | None, username: str):
        User = get_user_model()
        if username:
            try:
                return User.objects.get(username=username)
            except User.DoesNotExist:
                raise CommandError(f"No user {username!r}.") from None
        if review is not None:
            lead = Membership.objects.filter(review=review, role=Role.LEAD).order_by("pk").first()
            if lead:
                return lead.user
        user, created = User.objects.get_or_create(username=CLI_USERNAME)
        if created:
            user.set_unusable_password()
            user.save()
        return user

    def handle(self, *args, **opts):
        paths = [Path(f) for f in opts["files"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
        review = Review.objects.filter(slug=opts["review"]).first()
        actor = self._actor(review, opts["user"])
        try:
            if review is None:
                if not opts["create"]:
                    raise CommandError(f"No review {opts['review']!r} (add --create to create it).")
                review = services.review_create(
                    user=actor, title=opts["review"], slug=opts["review"]
                )
            search = identification.search_create(
                actor=actor,
                review=review,
                database=opts["database"],
                kind=opts["kind"],
                platform=opts["platform"],
                date_searched=opts["date"] or None,
                query=opts["query"],
                reported_hits=opts["hits"],
            )
            files = []
            for path in paths:
                with path.open("rb") as fh:
                    batch = identification.batch_upload(
                        actor=actor,
                        search=search,
                        fileobj=fh,
                        filename=path.name,
                        confirm_duplicate=opts["confirm_duplicate"],
                        enqueue=False,
                    )
                if batch.status == BatchStatus.NEEDS_MAPPING:
                    raise CommandError(
                        f"{path.name} is a table without a known column set; map its columns in "
                        "the browser (Searches page) or convert it to RIS."
                    )
                # Run here and now, whatever the broker: a command waits for its answer.
                job = jobs.job_run(batch.job_id)
                if job.status != JobStatus.SUCCEEDED:
                    raise CommandError(job.error)
                files.append(job.result)
        except (ValidationError, PermissionDenied, Http404) as exc:
            raise CommandError(_messages(exc)) from None
        summary = {
            "review": review.slug,
            "search": search.pk,
            "database": search.database,
            "format": ",".join(sorted({f["format"] for f in files})),
            "encoding": ",".join(sorted({f["encoding"] for f in files})),
            "parsed": sum(f["parsed"] for f in files),
            "imported": sum(f["imported"] for f in files),
            "skipped": [f"{f['file']}: {s}" for f in files for s in f["skipped"]],
            "files": files,
        }
        self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))
