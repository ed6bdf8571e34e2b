"""Background work of the project app: large exports and the dashboard's figures
(fanpin.reports.services)."""

from celery import shared_task

from fanpin.reports import services


@shared_task(name="fanpin.run_export_job")
def run_export_job(job_id):
    return services.export_job_run(job_id=job_id)


@shared_task(name="fanpin.refresh_dashboards")
def refresh_dashboards():
    """Every five minutes (CELERY_BEAT_SCHEDULE): the dashboards' stored figures counted again."""
    return services.dashboards_refresh()
