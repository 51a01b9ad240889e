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

    from django.db import DatabaseError

    from core.recovery import jobs_recover

    log = logging.getLogger(__name__)
    try:
        jobs_recover(getattr(sender, "hostname", "") or "")
    except DatabaseError as exc:  # the database is not there (yet): nothing to recover from
        log.warning("could not look for jobs left running by a dead worker: %s", exc)
    except Exception:  # a worker must start even if this fails; the jobs then wait
        log.exception("recovering orphaned jobs failed")
