from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo review, built through every step's services (top of the dependency order)."""

    name = "demo"
    verbose_name = "Demo review"
