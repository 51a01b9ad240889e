from django.apps import AppConfig


class ExtractionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "extraction"
    verbose_name = "Data extraction"

    def ready(self) -> None:
        from extraction import selectors
        from screening import hooks as screening_hooks

        # PRISMA's studies included: extraction says which included reports are one study.
        screening_hooks.studies_included.connect(selectors.studies_included)
