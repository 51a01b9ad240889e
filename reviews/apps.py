from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reviews"
    verbose_name = "Reviews, teams and searches"

    def ready(self) -> None:
        # Job handlers register themselves on import.
        from . import deduplication, imports, jobs  # noqa: F401
        from .record_selectors import records_identified
        from .stages import stage_set

        stage_set("identification", count=records_identified, url_name="reviews:searches")
        stage_set("deduplication", count=deduplication.duplicates_removed, url_name="reviews:dedup")
        stage_set("included", count=_studies_included, url_name="reviews:prisma")


def _studies_included(review) -> int:
    from .reporting import included_records

    return included_records(review=review).count()
