from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reviews"
    verbose_name = "Reviews, teams and searches"

    def ready(self) -> None:
        # Job handlers of this app (adding a team in bulk) register themselves on import.
        from reviews import services  # noqa: F401
        from reviews.dashboard import card_set
        from reviews.protocol.selectors import version_count

        card_set("protocol", count=version_count, url_name="protocol:home")
