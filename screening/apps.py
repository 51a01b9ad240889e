from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening"
    verbose_name = "Screening"

    def ready(self) -> None:
        from deduplication import hooks as dedup_hooks
        from identification import hooks as identification_hooks
        from reviews import hooks as review_hooks
        from reviews.dashboard import card_set
        from screening import record_hooks
        from screening.selectors import records_screened, reports_assessed
        from screening.services import removal, setup

        card_set("title_abstract", count=records_screened, url_name="screening:ta")
        card_set("full_text", count=reports_assessed, url_name="screening:ft")
        review_hooks.review_created.connect(setup.on_review_created)
        identification_hooks.records_imported.connect(setup.on_records_imported, order=20)
        dedup_hooks.clusters_changed.connect(setup.on_clusters_changed)
        dedup_hooks.records_in_use.connect(setup.records_with_votes)
        # A search deleted with its records: refused once any is screened, else items go.
        identification_hooks.records_in_use.connect(removal.records_started)
        identification_hooks.records_removed.connect(removal.on_records_removed, order=20)
        # The record pages: filters by stage and decision, statuses, votes and history.
        identification_hooks.record_filters.connect(record_hooks.record_filters)
        identification_hooks.record_statuses.connect(record_hooks.record_statuses)
        identification_hooks.record_steps.connect(record_hooks.record_steps)
        # Prioritised screening: registers the retraining job kind.
        from screening.prioritisation import services as _prioritisation  # noqa: F401
