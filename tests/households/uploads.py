"""Uploading a registry file on the import page, as the browser does."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase


def post_upload(client, data, name="登记表.csv"):
    """The upload's own answer; the job is enqueued on commit (eager in tests without REDIS_URL)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post("/households/import/", {"file": SimpleUploadedFile(name, data)})


def upload(client, data, name):
    """Upload and land where the user lands: the job page, or the form if the file was refused."""
    response = post_upload(client, data, name)
    return client.get(response["Location"]) if response.status_code == 302 else response
