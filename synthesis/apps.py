from django.apps import AppConfig


class SynthesisConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "synthesis"
    verbose_name = "Synthesis"

    def ready(self) -> None:
        from identification import hooks as identification_hooks
        from reviews.dashboard import card_set
        from reviews.protocol import hooks as protocol_hooks
        from synthesis import selectors, services  # noqa: F401 - registers the job kind

        # The deviation report compares the analyses run with the protocol's plan; the update
        # change log asks how each analysis changed per round.
        protocol_hooks.analyses_run.connect(selectors.analyses_run)
        identification_hooks.round_analyses.connect(selectors.round_analyses)
        card_set(
            "synthesis", count=selectors.studies_in_meta_analysis, url_name="synthesis:analyses"
        )
