"""Celery tasks of the registry: thin wrappers that take ids (STYLE.md)."""

from fanpin.celery import app

from .import_jobs import import_job_run, import_jobs_sweep


# Bound to the project's app rather than @shared_task's "current app": another Celery
# instance created in the same process (a client, as the worker tests make) must not take
# over where .delay() sends the job.
@app.task(name="households.run_import_job", ignore_result=True)
def run_import_job(job_id):
    """Import an uploaded registry file. No retries: a failed import is recorded on the job
    with its reason, and a second delivery of the message does nothing (the job is claimed)."""
    import_job_run(job_id=job_id)


@app.task(name="households.sweep_import_jobs", ignore_result=True)
def sweep_import_jobs():
    """Every few minutes (CELERY_BEAT_SCHEDULE): recover jobs a dead worker or a lost message left behind."""
    import_jobs_sweep()
