from django.apps import AppConfig


class IdentificationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "identification"
    verbose_name = "Identification: searches and records"

    def ready(self) -> None:
        # The import job registers itself on import.
        from identification import import_job  # noqa: F401
        from identification.selectors import records_identified
        from reviews.dashboard import card_set

        card_set("identification", count=records_identified, url_name="identification:searches")
        from identification.rounds import current_round_number

        card_set("rounds", count=current_round_number, url_name="identification:rounds")
