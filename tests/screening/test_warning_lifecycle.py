"""Warning lifecycle, verification into cases, tiers, scoping and the API (issue 10 points 3, 4, 6)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from rest_framework.test import APIClient

from households.models import Role
from monitoring.models import CaseEvent, MonitoringCase
from screening import warning_selectors, warning_services
from screening.models import RiskWarning, WarningSettings, WarningState
from tests import factories as f

from .warning_helpers import head, upload

pytestmark = pytest.mark.django_db


def housing_warning(world, household=None, period="2026-01"):
    household = household or world.household_a1
    upload(world, "housing", [{"member": head(household), "grade": "D"}], period=period)
    return RiskWarning.objects.get(household=household, risk_type="housing")


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_warning_is_dispatched_to_the_village_automatically_by_default(world):
    warning = housing_warning(world)
    assert warning.state == WarningState.DISPATCHED and warning.dispatched_at is not None
    assert list(warning.events.values_list("action", flat=True)) == ["raised", "dispatched"]


def test_with_town_dispatch_the_village_sees_it_only_after_the_town_sends_it(world):
    WarningSettings.objects.create(county=world.county, auto_dispatch=False)
    warning = housing_warning(world)
    assert warning.state == WarningState.NEW
    assert not warning_selectors.warnings_visible_to(world.village_cadre).exists()
    with pytest.raises(PermissionDenied):
        warning_services.warning_dispatch(user=world.admin, warning_id=warning.pk)
    with pytest.raises(Http404):
        warning_services.warning_dispatch(user=world.village_cadre, warning_id=warning.pk)
    warning_services.warning_dispatch(user=world.town_official, warning_id=warning.pk)
    warning.refresh_from_db()
    assert warning.state == WarningState.DISPATCHED
    assert warning.events.filter(action="dispatched", actor=world.town_official).exists()
    with pytest.raises(warning_services.Conflict):
        warning_services.warning_dispatch(user=world.town_official, warning_id=warning.pk)
    assert warning_selectors.warnings_visible_to(world.village_cadre).filter(pk=warning.pk).exists()


def test_included_opens_a_case_with_the_warnings_channel_date_and_facts(world):
    warning = housing_warning(world)
    RiskWarning.objects.filter(pk=warning.pk).update(raised_on=datetime.date(2026, 1, 5))
    response = api(world.village_cadre).post(
        f"/api/warnings/{warning.pk}/verify/",
        {"decision": "included", "reason": "入户核实，房屋确为危房"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    case = MonitoringCase.objects.get(pk=body["case"])
    assert body["state"] == "included" and case.household == world.household_a1
    assert (case.channel, case.discovered_on, case.primary_risk) == ("department_warning", datetime.date(2026, 1, 5),
                                                                     "housing")  # fmt: skip
    assert "农房安全鉴定为 D 级（危房）" in case.reason and "入户核实" in case.reason
    event = case.events.get()
    assert event.payload["warning"] == warning.pk and event.payload["figure"] == "农房安全鉴定为 D 级（危房）"
    assert event.payload["evidence"][0]["rule"] == "housing_unsafe"


def test_a_double_submit_is_409_and_never_two_cases(world):
    warning = housing_warning(world)
    client = api(world.village_cadre)
    data = {"decision": "included", "reason": "核实属实"}
    assert client.post(f"/api/warnings/{warning.pk}/verify/", data, format="json").status_code == 200
    second = client.post(f"/api/warnings/{warning.pk}/verify/", data, format="json")
    assert second.status_code == 409 and "已核实" in second.json()["detail"]
    assert MonitoringCase.objects.filter(household=world.household_a1).count() == 1


def test_included_for_a_household_with_an_open_case_attaches_to_its_timeline(world):
    case = MonitoringCase.objects.create(
        household=world.household_a1, channel="self_declared", discovered_on=datetime.date(2026, 1, 2), reason="x"
    )
    warning = housing_warning(world)
    done = warning_services.warning_verify(user=world.town_official, warning_id=warning.pk, decision="included",
                                           reason="已在监测中，补充住房风险")  # fmt: skip
    assert done.case_id == case.pk and MonitoringCase.objects.count() == 1
    event = CaseEvent.objects.get(case=case, action="warning")
    assert "农房安全鉴定为 D 级" in event.comment and event.payload["warning"] == warning.pk
    assert event.from_state == event.to_state == case.state
    from monitoring.selectors import timeline

    assert event in timeline(case)


def test_the_town_official_includes_and_opens_the_case(world):
    warning = housing_warning(world)
    done = warning_services.warning_verify(user=world.town_official, warning_id=warning.pk, decision="included",
                                           reason="核实属实")  # fmt: skip
    assert done.case.reported_by == world.town_official and done.case.channel == "department_warning"


def test_excluded_needs_a_reason_and_opens_no_case(world):
    warning = housing_warning(world)
    client = api(world.village_cadre)
    missing = client.post(f"/api/warnings/{warning.pk}/verify/", {"decision": "excluded"}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    blank = client.post(f"/api/warnings/{warning.pk}/verify/", {"decision": "excluded", "reason": "  "}, format="json")
    assert blank.status_code == 400
    ok = client.post(f"/api/warnings/{warning.pk}/verify/", {"decision": "excluded", "reason": "房屋已修缮"},
                     format="json")  # fmt: skip
    assert ok.status_code == 200 and ok.json()["case"] is None and ok.json()["state"] == "excluded"
    assert not MonitoringCase.objects.exists()
    assert RiskWarning.objects.get(pk=warning.pk).events.filter(action="excluded", comment="房屋已修缮").exists()


def test_a_bad_decision_is_400(world):
    warning = housing_warning(world)
    response = api(world.village_cadre).post(f"/api/warnings/{warning.pk}/verify/", {"decision": "maybe",
                                                                                     "reason": "x"}, format="json")  # fmt: skip
    assert response.status_code == 400


@pytest.mark.parametrize("who", ["village_cadre_b", "department_staff", "nobody"])
def test_out_of_scope_is_404(world, who):
    warning = housing_warning(world)
    client = api(getattr(world, who))
    assert client.get(f"/api/warnings/{warning.pk}/").status_code == 404
    data = {"decision": "included", "reason": "x"}
    assert client.post(f"/api/warnings/{warning.pk}/verify/", data, format="json").status_code == 404
    assert RiskWarning.objects.get(pk=warning.pk).state == WarningState.DISPATCHED


def test_the_county_officer_sees_but_does_not_verify_a_household_warning(world):
    warning = housing_warning(world)
    client = api(world.county_officer)
    assert client.get(f"/api/warnings/{warning.pk}/").status_code == 200
    response = client.post(f"/api/warnings/{warning.pk}/verify/", {"decision": "included", "reason": "x"},
                           format="json")  # fmt: skip
    assert response.status_code == 403


def test_scoping_of_the_list_for_every_role(world):
    a1 = housing_warning(world)
    b1 = housing_warning(world, world.household_b1, period="2026-02")  # a file replaces its month's rows
    other_dept = f.make_department(world.other_county, "housing")
    assert other_dept

    def ids(user):
        return {w["id"] for w in api(user).get("/api/warnings/").json()["results"]}

    assert ids(world.county_officer) == {a1.pk, b1.pk}
    assert ids(world.town_official) == {a1.pk}
    assert ids(world.village_cadre) == {a1.pk}
    assert ids(world.village_cadre_b) == {b1.pk}
    assert ids(world.department_staff) == set()
    assert ids(world.admin) == {a1.pk, b1.pk}
    other_officer = f.user_with_role("other_county", Role.COUNTY_OFFICER, area=world.other_county)
    assert ids(other_officer) == set() and ids(world.nobody) == set()
    for outsider in (other_officer, world.nobody, world.department_staff, world.village_cadre_b):
        assert api(outsider).get(f"/api/warnings/{a1.pk}/").status_code == 404
    assert api(world.village_cadre).get(f"/api/warnings/{b1.pk}/").status_code == 404
    assert APIClient().get("/api/warnings/").status_code == 401


def test_the_detail_has_the_contract_fields(world):
    warning = housing_warning(world)
    body = api(world.village_cadre).get(f"/api/warnings/{warning.pk}/").json()
    assert body["state"] == "dispatched" and body["tier"] == "red" and body["risk_type"] == "housing"
    assert body["rule"] == "housing_unsafe" and body["figure"] == "农房安全鉴定为 D 级（危房）" and body["case"] is None
    assert body["evidence"][0]["rows"][0]["data"]["grade"] == "D"


def test_list_filters(world):
    housing_warning(world)
    upload(world, "human_resources", [{"member": head(world.household_a2), "employment_status": "失业"}])
    client = api(world.county_officer)

    def risks(**params):
        return [w["risk_type"] for w in client.get("/api/warnings/", params).json()["results"]]

    assert risks(tier="yellow") == ["employment"]
    assert risks(risk_type="housing") == ["housing"]
    assert risks(department="human_resources") == ["employment"]
    assert risks(period="2026-01") == ["housing", "employment"]  # red first
    assert risks(period="2026-02") == []
    assert risks(state="dispatched", village=world.village_a2.pk) == ["employment"]
    assert risks(town=world.town_b.pk) == []
    assert client.get("/api/warnings/", {"period": "2026-13"}).status_code == 400


def test_tiers_rise_with_age_unverified(world):
    upload(world, "human_resources", [{"member": head(world.household_a1), "employment_status": "失业"}])
    warning = RiskWarning.objects.get()
    today = datetime.date.today()

    def tier(days_old, **kw):
        RiskWarning.objects.filter(pk=warning.pk).update(raised_on=today - datetime.timedelta(days=days_old), **kw)
        return warning_selectors.warning_for(world.county_officer, warning.pk, today=today).tier

    assert tier(0) == "yellow"
    assert tier(6) == "yellow"
    assert tier(7) == "orange"
    assert tier(14) == "red"
    assert tier(40) == "red"
    WarningSettings.objects.create(county=world.county, effective_from=datetime.date(2020, 1, 1), tier_escalate_days=3)
    assert tier(3) == "orange"
    assert tier(14, state="excluded", verified_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)) == "yellow"


def test_town_confirmation_is_a_recorded_step_before_the_decision(world):
    WarningSettings.objects.create(county=world.county, town_confirms=True)
    warning = housing_warning(world)
    proposed = warning_services.warning_verify(user=world.village_cadre, warning_id=warning.pk, decision="excluded",
                                               reason="房屋已拆除重建")  # fmt: skip
    assert proposed.state == WarningState.DISPATCHED and proposed.proposed_decision == "excluded"
    assert proposed.events.filter(action="proposed", actor=world.village_cadre).exists()
    done = warning_services.warning_verify(user=world.town_official, warning_id=warning.pk, decision="excluded",
                                           reason="同意村级意见")  # fmt: skip
    assert done.state == WarningState.EXCLUDED and done.events.filter(label="乡镇确认核实排除").exists()


def test_the_village_cannot_verify_a_warning_not_yet_dispatched_but_the_town_can(world):
    WarningSettings.objects.create(county=world.county, auto_dispatch=False)
    warning = housing_warning(world)
    with pytest.raises(Http404):
        warning_services.warning_verify(user=world.village_cadre, warning_id=warning.pk, decision="excluded",
                                        reason="x")  # fmt: skip
    done = warning_services.warning_verify(user=world.town_official, warning_id=warning.pk, decision="excluded",
                                           reason="核实无此情况")  # fmt: skip
    assert done.state == WarningState.EXCLUDED


def test_a_missing_reason_changes_nothing(world):
    warning = housing_warning(world)
    with pytest.raises(ValidationError):
        warning_services.warning_verify(user=world.village_cadre, warning_id=warning.pk, decision="included")
    warning.refresh_from_db()
    assert warning.state == WarningState.DISPATCHED and not MonitoringCase.objects.exists()


def test_the_list_query_count_does_not_grow_with_warnings(world, django_assert_max_num_queries):
    households = (world.household_a1, world.household_a2, world.household_b1)
    upload(world, "housing", [{"member": head(household), "grade": "C"} for household in households])
    client = api(world.county_officer)
    with django_assert_max_num_queries(8):
        assert client.get("/api/warnings/").json()["count"] == 3


def test_the_demo_decimal_helper_formats_yuan():
    from screening.rules import yuan

    assert (yuan(Decimal("38420")), yuan(Decimal("1234.5")), yuan(10250)) == ("38,420", "1,234.50", "10,250")
