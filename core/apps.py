from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Site-wide plumbing that knows no review and no PRISMA step (no models)."""

    name = "core"
    verbose_name = "Evident core"

    def ready(self) -> None:
        from celery.signals import worker_ready

        worker_ready.connect(_recover_on_worker_start, dispatch_uid="evident-jobs-recover")


def _recover_on_worker_start(sender=None, **kwargs) -> None:
    """A worker that starts queues again the jobs dead workers left running (core.recovery)."""
    import logging

    from core.recovery import jobs_recover

    try:
        jobs_recover(getattr(sender, "hostname", "") or "")
    except Exception:  # a worker must start even if this fails; the jobs then wait
        logging.getLogger(__name__).exception("recovering orphaned jobs failed")
