from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening"
    verbose_name = "Screening"

    def ready(self) -> None:
        from reviews.stages import stage_set

        from .selectors import records_screened, reports_assessed

        stage_set("title_abstract", count=records_screened, url_name="screening:ta")
        stage_set("full_text", count=reports_assessed, url_name="screening:ft")
