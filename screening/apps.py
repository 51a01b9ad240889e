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
        from screening.selectors import records_screened, reports_assessed
        from screening.services import setup

        card_set("title_abstract", count=records_screened, url_name="screening:ta")
        card_set("full_text", count=reports_assessed, url_name="screening:ft")
        review_hooks.review_created.connect(setup.on_review_created)
        identification_hooks.records_imported.connect(setup.on_records_imported, order=20)
        dedup_hooks.clusters_changed.connect(setup.on_clusters_changed)
        dedup_hooks.records_in_use.connect(setup.records_with_votes)
