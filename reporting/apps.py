from django.apps import AppConfig


class ReportingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reporting"
    verbose_name = "Reporting: PRISMA 2020, exports and archives"

    def ready(self) -> None:
        from reporting.selectors import studies_included
        from reviews.dashboard import card_set

        card_set("included", count=studies_included, url_name="extraction:studies")
