from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reviews"
    verbose_name = "Reviews, teams and searches"

    def ready(self) -> None:
        # Job handlers of this app (adding a team in bulk) register themselves on import.
        from reviews import services  # noqa: F401
