from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Site-wide plumbing that knows no review and no PRISMA step (no models)."""

    name = "core"
    verbose_name = "Evident core"
