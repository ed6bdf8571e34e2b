import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")

app = Celery("fanpin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="fanpin.ping")
def ping():
    """Round-trip check used by the deployment docs and the worker test."""
    return "pong"
