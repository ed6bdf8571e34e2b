"""What happens to warnings when the data or the calendar moves on (issue 10, what the previous
stop left): verified warnings keep their tier; a re-upload that drops a person withdraws their
unverified warning of that period (verified ones stay); the 医保 cumulative crossing is raised
once per person and year, not again every later month."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from screening import warning_selectors, warning_services
from screening.models import RiskWarning, RuralIncome, ScaleAlert, WarningEvent, WarningSettings

from .warning_helpers import head, upload

pytestmark = pytest.mark.django_db

MEDICAL = "medical_insurance"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def medical(member, paid, day="2026-01-15", inpatient="否", institution="县医院"):
    return {"member": member, "visit_date": day, "total_cost": str(Decimal(paid) * 2), "self_paid": str(paid),
            "inpatient": inpatient, "institution": institution}  # fmt: skip


@pytest.fixture
def income(world):
    return RuralIncome.objects.create(county=world.county, year=2025, amount=Decimal("20500"))


def tier(world, warning, today):
    return warning_selectors.warning_for(world.county_officer, warning.pk, today=today).tier


# --- verified warnings keep their tier ------------------------------------------------------------


def test_a_verified_warning_keeps_the_tier_it_had_when_verified(world):
    upload(world, "human_resources", [{"member": head(world.household_a1), "employment_status": "失业"}])
    warning = RiskWarning.objects.get()
    today = datetime.date.today()
    RiskWarning.objects.filter(pk=warning.pk).update(raised_on=today - datetime.timedelta(days=8))
    assert tier(world, warning, today) == "orange"  # yellow rule, 8 days unverified

    warning_services.warning_verify(user=world.village_cadre, warning_id=warning.pk, decision="excluded",
                                    reason="已在县城稳定就业")  # fmt: skip

    assert tier(world, warning, today) == "orange"
    assert tier(world, warning, today + datetime.timedelta(days=30)) == "orange"  # no longer rises with age
    body = api(world.county_officer).get(f"/api/warnings/{warning.pk}/").json()
    assert body["tier"] == "orange" and body["state"] == "excluded"


def test_an_open_warning_still_rises_and_a_fresh_verified_one_stays_at_its_severity(world):
    upload(world, "human_resources", [{"member": head(world.household_a1), "employment_status": "失业"},
                                      {"member": head(world.household_a2), "employment_status": "失业"}])  # fmt: skip
    first, second = RiskWarning.objects.order_by("pk")
    today = datetime.date.today()
    warning_services.warning_verify(user=world.town_official, warning_id=first.pk, decision="included", reason="属实")
    later = today + datetime.timedelta(days=15)
    assert tier(world, first, later) == "yellow" and tier(world, second, later) == "red"


# --- a re-upload that drops a person ---------------------------------------------------------------


def test_a_reupload_that_drops_a_person_withdraws_their_unverified_warning(world, client):
    a1, a2 = head(world.household_a1), head(world.household_a2)
    upload(world, "housing", [{"member": a1, "grade": "D"}, {"member": a2, "grade": "C"}])
    dropped = RiskWarning.objects.get(household=world.household_a2)

    upload(world, "housing", [{"member": a1, "grade": "D"}])  # the corrected file: a2's house was mis-keyed

    dropped.refresh_from_db()
    assert dropped.withdrawn_at is not None and dropped.state == "dispatched"  # no fifth state
    assert dropped.evidence == [] and "已没有该预警的依据" in dropped.withdrawn_reason
    event = WarningEvent.objects.get(warning=dropped, action="withdrawn")
    assert event.label == "预警撤销" and "农房安全鉴定为 C 级" in event.comment
    assert event.payload["removed"][0]["rule"] == "housing_unsafe"
    # Out of the inbox and the counts, not verifiable, its page still says what happened.
    ids = [w["id"] for w in api(world.town_official).get("/api/warnings/").json()["results"]]
    assert dropped.pk not in ids and RiskWarning.objects.get(household=world.household_a1).pk in ids
    assert warning_selectors.open_count(world.village_cadre) == 1
    refused = api(world.town_official).post(f"/api/warnings/{dropped.pk}/verify/",
                                            {"decision": "included", "reason": "x"}, format="json")  # fmt: skip
    assert refused.status_code == 409 and "已撤销" in refused.json()["detail"]
    detail = api(world.town_official).get(f"/api/warnings/{dropped.pk}/").json()
    assert detail["withdrawn_at"] and detail["withdrawn_reason"]
    client.force_login(world.town_official)
    page = client.get(f"/screening/warnings/{dropped.pk}/").content.decode()
    assert "已撤销" in page and 'id="include"' not in page


def test_a_verified_warning_stays_as_it_is_when_its_rows_are_replaced(world):
    a1, a2 = head(world.household_a1), head(world.household_a2)
    upload(world, "housing", [{"member": a1, "grade": "D"}, {"member": a2, "grade": "C"}])
    verified = RiskWarning.objects.get(household=world.household_a2)
    warning_services.warning_verify(user=world.town_official, warning_id=verified.pk, decision="excluded",
                                    reason="房屋已于去年改造")  # fmt: skip
    before = RiskWarning.objects.get(pk=verified.pk)

    upload(world, "housing", [{"member": a1, "grade": "D"}])

    after = RiskWarning.objects.get(pk=verified.pk)
    assert after.withdrawn_at is None and after.evidence == before.evidence and after.state == "excluded"
    assert not WarningEvent.objects.filter(warning=verified, action__in=["withdrawn", "evidence_removed"]).exists()


def test_a_dropped_finding_of_several_leaves_the_others_and_a_person_back_in_the_data_reinstates(world, income):
    member = head(world.household_a1)
    stay_and_total = [medical(member, "15000", inpatient="是", day="2026-01-03"), medical(member, "9000")]
    upload(world, MEDICAL, stay_and_total)
    warning = RiskWarning.objects.get()
    assert {e["rule"] for e in warning.evidence} == {"medical_annual", "medical_stay"}

    upload(world, MEDICAL, [medical(member, "9000"), medical(member, "12000", day="2026-01-04")])  # no stay now
    warning.refresh_from_db()
    assert [e["rule"] for e in warning.evidence] == ["medical_annual"] and warning.withdrawn_at is None
    assert "单次住院" not in warning.figure and warning.figure.startswith("2026 年 1 月个人自付 21,000 元")
    assert WarningEvent.objects.filter(warning=warning, action="evidence_removed").count() == 1

    upload(world, MEDICAL, [medical(head(world.household_a2), "100")])  # the person dropped entirely
    warning.refresh_from_db()
    assert warning.withdrawn_at is not None
    upload(world, MEDICAL, stay_and_total)  # and the department sends the first file again
    warning.refresh_from_db()
    assert warning.withdrawn_at is None and warning.withdrawn_reason == ""
    assert {e["rule"] for e in warning.evidence} == {"medical_annual", "medical_stay"}
    assert WarningEvent.objects.filter(warning=warning, action="reinstated").count() == 1
    assert RiskWarning.objects.filter(household=world.household_a1).count() == 1


def test_withdrawn_warnings_count_for_no_scale_alert(world):
    WarningSettings.objects.create(county=world.county, effective_from=datetime.date(2000, 1, 1), scale_count=2,
                                   scale_share=1000)  # fmt: skip
    members = list(world.household_a1.members.all()[:1]) + [head(world.household_a2)]
    upload(world, "housing", [{"member": members[0], "grade": "D"}])
    upload(world, "housing", [{"member": members[1], "grade": "D"}])  # replaces the first: one household at a time
    assert not ScaleAlert.objects.exists()
    assert RiskWarning.objects.filter(withdrawn_at__isnull=True).count() == 1


def test_the_department_sees_withdrawn_warnings_counted_apart(world, client):
    first = upload(world, "housing", [{"member": head(world.household_a2), "grade": "C"}])
    upload(world, "housing", [{"member": head(world.household_a1), "grade": "D"}])
    outcomes = warning_selectors.upload_outcomes(first)
    assert outcomes["withdrawn"] == 1 and outcomes["open"] == 0 and outcomes["warnings"] == 0


# --- the 医保 cumulative crossing -----------------------------------------------------------------


def test_the_cumulative_crossing_is_one_warning_not_one_every_later_month(world, income):
    """One warning per household, risk type and period, and the crossing is one event: in the
    month the annual total first passes the line; February and March add costs, no warning."""
    member = head(world.household_a2)  # an ordinary household: 100 % of 20,500
    upload(world, MEDICAL, [medical(member, "21000")], period="2026-01")
    upload(world, MEDICAL, [medical(member, "3000", day="2026-02-10")], period="2026-02")
    upload(world, MEDICAL, [medical(member, "2000", day="2026-03-10")], period="2026-03")
    (warning,) = RiskWarning.objects.filter(household=world.household_a2)
    assert warning.period == datetime.date(2026, 1, 1) and "2026 年 1 月个人自付 21,000 元" in warning.figure


def test_a_new_hospital_stay_in_a_later_month_is_still_its_own_warning(world, income):
    member = head(world.household_a2)
    upload(world, MEDICAL, [medical(member, "21000")], period="2026-01")
    upload(world, MEDICAL, [medical(member, "12000", inpatient="是", day="2026-02-10")], period="2026-02")
    feb = RiskWarning.objects.get(household=world.household_a2, period=datetime.date(2026, 2, 1))
    assert [e["rule"] for e in feb.evidence] == ["medical_stay"]


def test_a_withdrawn_crossing_does_not_hold_back_a_later_one(world, income):
    member = head(world.household_a2)
    upload(world, MEDICAL, [medical(member, "21000")], period="2026-01")
    upload(world, MEDICAL, [medical(member, "1000")], period="2026-01")  # January corrected: no crossing
    assert RiskWarning.objects.get(household=world.household_a2).withdrawn_at is not None
    upload(world, MEDICAL, [medical(member, "20000", day="2026-02-10")], period="2026-02")
    feb = RiskWarning.objects.get(household=world.household_a2, period=datetime.date(2026, 2, 1))
    assert "2026 年 1–2 月个人自付 21,000 元" in feb.figure


def test_a_new_year_starts_afresh(world, income):
    RuralIncome.objects.create(county=world.county, year=2024, amount=Decimal("20000"))
    member = head(world.household_a2)
    upload(world, MEDICAL, [medical(member, "21000", day="2025-12-15")], period="2025-12")
    upload(world, MEDICAL, [medical(member, "21000", day="2026-01-15")], period="2026-01")
    assert RiskWarning.objects.filter(household=world.household_a2).count() == 2
