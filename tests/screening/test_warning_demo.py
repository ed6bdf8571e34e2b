"""seed_demo's department month (issue 10 point 10): warnings in every state and tier for the
demo users, loaded through the real upload path."""

import pytest

from fanpin import demo as fanpin_demo
from households import demo
from screening import warning_selectors
from screening.models import RiskWarning, ScreeningUpload

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.FANPIN_DEMO_PASSWORD = "demo-pass-1"
    fanpin_demo.build_demo(households_per_village=12)
    return demo.demo_county()


def users():
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.all()}


def test_the_demo_has_warnings_in_every_state_and_tier_through_real_uploads(built):
    kinds = set(
        ScreeningUpload.objects.filter(status="done", is_current=True).values_list("department__kind", flat=True)
    )
    assert {"medical_insurance", "disabled_federation", "housing", "civil_affairs"} <= kinds
    u = users()
    county = warning_selectors.with_tier(warning_selectors.warnings_visible_to(u["county"]))
    assert set(county.values_list("state", flat=True)) == {"new", "dispatched", "included", "excluded"}
    assert set(county.values_list("tier", flat=True)) == {"red", "orange", "yellow"}
    assert warning_selectors.warnings_visible_to(u["town"]).filter(state="new").exists()
    village = set(warning_selectors.warnings_visible_to(u["village"]).values_list("state", flat=True))
    assert {"dispatched", "included", "excluded"} <= village
    included = RiskWarning.objects.filter(state="included").exclude(case=None)
    assert included.filter(case__channel="department_warning").exists()


def test_medical_sees_its_uploads_outcome_and_a_reset_rebuilds(built, client):
    upload = ScreeningUpload.objects.get(department__kind="medical_insurance", is_current=True)
    client.force_login(users()["medical"])
    page = client.get(f"/screening/uploads/{upload.pk}/").content.decode()
    assert "生成预警</dt><dd>" in page and "核实纳入" in page
    fanpin_demo.build_demo(households_per_village=3, reset=True)
    assert RiskWarning.objects.exists()
