"""Finding 10 of issue 14: a repeated client_uuid answers the documented 200 even when the
two submissions arrive together (the second one loses the insert race)."""

import uuid

from rest_framework.test import APIClient

from monitoring.models import Visit


def _body(world, client_uuid):
    return {"household": world.household_a1.pk, "visitors": "张三、李四", "client_uuid": client_uuid}


def test_a_repeat_that_loses_the_insert_race_answers_200_with_the_first_visit(world, monkeypatch):
    client_uuid = str(uuid.uuid4())
    original = Visit.full_clean
    rival = {}

    def twin_saves_first(self, *args, **kwargs):
        # The simultaneous twin commits between this request's checks and its insert.
        if not rival and self.household_id and self.recorded_by_id:
            rival["visit"] = Visit.objects.create(
                household=self.household,
                recorded_by=self.recorded_by,
                visited_on=self.visited_on,
                visitors="张三",
                client_uuid=client_uuid,
            )
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Visit, "full_clean", twin_saves_first)
    client = APIClient()
    client.force_authenticate(world.village_cadre)
    response = client.post("/api/visits/", _body(world, client_uuid), format="json")
    assert response.status_code == 200
    assert response.json()["id"] == rival["visit"].pk
    assert Visit.objects.filter(client_uuid=client_uuid).count() == 1


def test_first_submission_is_201_and_a_later_repeat_200(world):
    client = APIClient()
    client.force_authenticate(world.village_cadre)
    body = _body(world, str(uuid.uuid4()))
    first = client.post("/api/visits/", body, format="json")
    again = client.post("/api/visits/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
