"""Without any Redis at all: what a person sees when the broker cannot be reached as they
upload (the private-Redis tests in test_redis_restarted.py do the same with a real restart)."""

import pytest
from kombu.exceptions import OperationalError

from households.broker import WAITING_NOTICE
from households.models import ImportJob
from screening import services
from screening.models import ScreeningUpload
from tests.faults.test_worker_killed import registry_csv
from tests.households.uploads import post_upload
from tests.screening.helpers import api_upload, csv_bytes, medical_row


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(services, "send_prepare", refuse)
    from households import tasks

    monkeypatch.setattr(tasks.run_import_job, "delay", refuse)


def test_an_upload_the_broker_cannot_take_is_kept_queued_and_the_person_is_told(
    client, transactional_db, world, broker_down
):
    # transactional_db: the task is sent on the real commit, inside upload_create, as on a server
    client.force_login(world.department_staff)
    response = api_upload(client, csv_bytes([medical_row(world.household_a1.members.first())]))
    assert response.status_code == 201
    assert response.json()["status"] == "queued" and response.json()["notices"] == [WAITING_NOTICE]
    upload = ScreeningUpload.objects.get()
    assert WAITING_NOTICE in client.get(f"/screening/uploads/{upload.pk}/").content.decode()

    client.force_login(world.village_cadre)
    page = post_upload(client, registry_csv(households=1, members=1))
    assert page.status_code == 302
    assert ImportJob.objects.get().notice == WAITING_NOTICE
    assert WAITING_NOTICE in client.get(page["Location"]).content.decode()
