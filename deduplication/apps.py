from django.apps import AppConfig


class DeduplicationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deduplication"
    verbose_name = "Deduplication"

    def ready(self) -> None:
        from deduplication import selectors, services
        from identification import hooks
        from reviews.dashboard import card_set

        card_set(
            "deduplication", count=selectors.duplicates_removed, url_name="deduplication:dedup"
        )
        # New records are compared with every record of the review inside the import's
        # transaction, before screening sees them.
        hooks.records_imported.connect(services.dedup_after_import, order=10)
        # Records deleted with their search: their pairs go, their clusters are mended.
        hooks.records_removed.connect(services.on_records_removed, order=10)
