"""Celery tasks of screening: thin wrappers that take ids (STYLE.md). The work and its
idempotency live in screening.services."""

from fanpin.celery import app

from . import services


# Bound to the project's app (see households.tasks): a client app created in the same process
# must not take over where .delay() sends the work.
@app.task(name="screening.prepare_upload", ignore_result=True)
def prepare_upload(upload_id: int) -> None:
    """Read an uploaded department file into chunks and send them to the workers."""
    services.upload_prepare_and_send(upload_id=upload_id)


@app.task(name="screening.process_chunk", ignore_result=True)
def process_chunk(upload_id: int, index: int, attempt: int) -> None:
    """One chunk of an upload; the last one done makes the upload the period's data."""
    services.chunk_process_and_finalize(upload_id=upload_id, index=index, attempt=attempt)


@app.task(name="screening.finalize_upload", ignore_result=True)
def finalize_upload(upload_id: int, attempt: int) -> None:
    """Make the upload the period's data once every chunk is done (sent by the workers of
    earlier versions, as a chord's body; finalize_if_done runs it in the last chunk's task now)."""
    services.upload_finalize(upload_id=upload_id, attempt=attempt)


@app.task(name="screening.sweep_uploads", ignore_result=True)
def sweep_uploads() -> None:
    """Every ten minutes (CELERY_BEAT_SCHEDULE): recover uploads a dead worker or a lost message left behind."""
    services.uploads_sweep()


@app.task(name="screening.run_upload_rules", ignore_result=True)
def run_upload_rules(upload_id: int) -> None:
    """The warning rules of a finished upload's department (enqueued on commit of the upload's finalisation)."""
    from . import warning_services

    warning_services.run_upload_rules(upload_id=upload_id)


def enqueue_upload_rules(*, upload_id: int) -> None:
    """SCREENING_UPLOAD_DONE handler: the rules run as the next task of the upload's chain."""
    run_upload_rules.delay(upload_id)


@app.task(name="screening.run_platform_rules", ignore_result=True)
def run_platform_rules(period: str | None = None) -> None:
    """Monthly (django-celery-beat, created by migration): the platform rules over the registry."""
    import datetime

    from django.utils import timezone

    from . import warning_services

    day = datetime.date.fromisoformat(period + "-01") if period else timezone.localdate().replace(day=1)
    warning_services.run_platform_rules(period=day)
