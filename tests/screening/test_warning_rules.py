"""Each warning rule at and above its threshold, the county's dated settings, merging and
idempotent re-runs (issue 10 points 1–3)."""

import datetime
from decimal import Decimal

import pytest

from households.models import Household
from monitoring.models import MonitoringCase
from screening.models import RiskWarning, RuralIncome, WarningSettings, WarningState
from tests import factories as f

from .warning_helpers import head, upload

pytestmark = pytest.mark.django_db

MEDICAL = "medical_insurance"


def medical(member, paid, day="2026-01-15", inpatient="否", institution="县医院"):
    who = {"id_number": member, "name": "某人"} if isinstance(member, str) else {"member": member}
    return {**who, "visit_date": day, "total_cost": str(Decimal(paid) * 2), "self_paid": str(paid),
            "inpatient": inpatient, "institution": institution}  # fmt: skip


def warnings_of(household, **kw):
    return list(RiskWarning.objects.filter(household=household, **kw))


@pytest.fixture
def income(world):
    return RuralIncome.objects.create(county=world.county, year=2025, amount=Decimal("20500"))


def test_the_issue_example_figure_former_poor_share_of_last_years_income(world, income):
    Household.objects.filter(pk=world.household_a1.pk).update(household_type=Household.Type.FORMERLY_POOR)
    upload(world, MEDICAL, [medical(head(world.household_a1), "38420", day="2026-10-08")], period="2026-10")
    (warning,) = warnings_of(world.household_a1)
    assert warning.figure == "2026 年 1–10 月个人自付 38,420 元，超过上年农村居民人均可支配收入的 50 %（10,250 元）"
    assert (warning.risk_type, warning.rule, warning.department) == ("illness", "medical_annual", MEDICAL)
    assert warning.period == datetime.date(2026, 10, 1)


@pytest.mark.parametrize(
    ("former_poor", "paid", "fires"),
    [(True, "10250", False), (True, "10250.01", True), (False, "20500", False), (False, "20500.01", True),
     (False, "15000", False)],
)  # fmt: skip
def test_the_two_population_shares_at_and_above(world, income, former_poor, paid, fires):
    if former_poor:
        Household.objects.filter(pk=world.household_a1.pk).update(household_type=Household.Type.FORMERLY_POOR)
    upload(world, MEDICAL, [medical(head(world.household_a1), paid)])
    assert bool(warnings_of(world.household_a1, risk_type="illness")) is fires


def test_a_monitored_household_takes_the_lower_share(world, income):
    MonitoringCase.objects.create(
        household=world.household_a1, channel="self_declared", discovered_on=datetime.date(2026, 1, 2), reason="x"
    )
    upload(world, MEDICAL, [medical(head(world.household_a1), "12000"), medical(head(world.household_a2), "12000")])
    assert warnings_of(world.household_a1) and not warnings_of(world.household_a2)


def test_the_annual_sum_accumulates_over_the_months_of_the_year(world, income):
    member = head(world.household_a2)
    upload(world, MEDICAL, [medical(member, "12000")], period="2026-01")
    assert not warnings_of(world.household_a2)
    upload(world, MEDICAL, [medical(member, "9000", day="2026-02-10")], period="2026-02")
    (warning,) = warnings_of(world.household_a2)
    assert warning.period == datetime.date(2026, 2, 1)
    assert warning.figure.startswith("2026 年 1–2 月个人自付 21,000 元，超过上年农村居民人均可支配收入的 100 %")


def test_the_fixed_annual_sum_without_an_income_figure(world):
    WarningSettings.objects.create(county=world.county, medical_annual_sum=Decimal("26000"), medical_stay_sum=None)
    upload(world, MEDICAL, [medical(head(world.household_a1), "26000"), medical(head(world.household_a2), "26000.5")])
    assert not warnings_of(world.household_a1)
    (warning,) = warnings_of(world.household_a2)
    assert warning.figure == "2026 年 1 月个人自付 26,000.50 元，超过 26,000 元"


def test_a_single_hospital_stay_at_and_above_the_sum(world):
    upload(world, MEDICAL, [medical(head(world.household_a1), "10000", inpatient="是"),
                            medical(head(world.household_a2), "10000.01", inpatient="是"),
                            medical(head(world.household_b1), "15000", inpatient="否")])  # fmt: skip
    assert not warnings_of(world.household_a1) and not warnings_of(world.household_b1)
    (warning,) = warnings_of(world.household_a2)
    assert warning.figure == "2026-01-15 单次住院个人自付 10,000.01 元，超过 10,000 元"
    assert warning.rule == "medical_stay"


def test_settings_apply_from_their_effective_date(world, income):
    WarningSettings.objects.create(county=world.county, effective_from=datetime.date(2026, 3, 1),
                                   medical_share_other=50)  # fmt: skip
    upload(world, MEDICAL, [medical(head(world.household_a1), "12000")], period="2026-02")
    assert not warnings_of(world.household_a1)  # February: 100 % (20,500) still in force
    upload(world, MEDICAL, [medical(head(world.household_a2), "12000", day="2026-03-02")], period="2026-03")
    (warning,) = warnings_of(world.household_a2)
    assert "超过上年农村居民人均可支配收入的 50 %（10,250 元）" in warning.figure


def test_two_rules_of_one_risk_merge_into_one_warning_and_reruns_change_nothing(world, income):
    member = head(world.household_a1)
    rows = [medical(member, "15000", inpatient="是", day="2026-01-03"), medical(member, "9000", day="2026-01-20")]
    first = upload(world, MEDICAL, rows)
    (warning,) = warnings_of(world.household_a1)
    assert {e["rule"] for e in warning.evidence} == {"medical_annual", "medical_stay"}
    assert warning.severity == "red" and warning.rule == "medical_annual"
    assert "单次住院个人自付 15,000 元" in warning.figure and "个人自付 24,000 元" in warning.figure
    events = warning.events.count()
    from screening import warning_services

    assert warning_services.run_upload_rules(upload_id=first.pk).created == 0
    upload(world, MEDICAL, rows)  # the same file again
    (again,) = warnings_of(world.household_a1)
    assert again.pk == warning.pk and again.figure == warning.figure and again.events.count() == events
    assert len(again.evidence) == len(warning.evidence)
    assert RiskWarning.objects.count() == 1


def test_one_warning_per_household_risk_and_period_is_database_enforced(world):
    from django.db import IntegrityError, transaction

    kw = {"county": world.county, "household": world.household_a1, "risk_type": "illness",
          "period": datetime.date(2026, 1, 1), "rule": "x", "department": MEDICAL, "severity": "red", "figure": "x"}  # fmt: skip
    RiskWarning.objects.create(**kw)
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskWarning.objects.create(**kw)


def test_two_members_of_one_household_make_one_warning(world, income):
    Household.objects.filter(pk=world.household_a1.pk).update(household_type=Household.Type.FORMERLY_POOR)
    members = list(world.household_a1.members.order_by("pk"))
    upload(world, MEDICAL, [medical(members[0], "11000"), medical(members[1], "12000")])
    (warning,) = warnings_of(world.household_a1)
    assert len(warning.evidence) == 2


# --- the other departments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "level", "fires"),
    [("肢体残疾", "2", True), ("肢体残疾", "3", False), ("智力残疾", "3", True), ("精神残疾", "4", True),
     ("视力残疾", "1", True), ("听力残疾", "4", False)],
)  # fmt: skip
def test_disability_severe_levels(world, category, level, fires):
    upload(world, "disabled_federation", [{"member": head(world.household_a1), "disability_category": category,
                                           "disability_level": level, "certified_on": "2026-01-05"}])  # fmt: skip
    found = warnings_of(world.household_a1, risk_type="disability")
    assert bool(found) is fires
    if fires:
        assert found[0].figure == f"2026-01-05 新办残疾人证：{category}{level} 级（重度）"


def test_disability_certified_long_ago_is_not_new(world):
    upload(world, "disabled_federation", [{"member": head(world.household_a1), "disability_category": "肢体残疾",
                                           "disability_level": "1", "certified_on": "2020-01-05"}])  # fmt: skip
    assert not warnings_of(world.household_a1)


def test_disaster_loss_at_and_above(world):
    upload(world, "emergency", [
        {"member": head(world.household_a1), "disaster_date": "2026-01-20", "disaster_type": "洪涝", "loss": "10000"},
        {"member": head(world.household_a2), "disaster_date": "2026-01-20", "disaster_type": "洪涝", "loss": "12000"},
    ])  # fmt: skip
    assert not warnings_of(world.household_a1)
    (warning,) = warnings_of(world.household_a2)
    assert (warning.risk_type, warning.figure) == ("disaster", "2026-01-20 洪涝受灾，损失 12,000 元，超过 10,000 元")


def test_housing_c_and_d_grades(world):
    upload(world, "housing", [{"member": head(world.household_a1), "grade": "B"},
                              {"member": head(world.household_a2), "grade": "C"},
                              {"member": head(world.household_b1), "grade": "D级"}])  # fmt: skip
    assert not warnings_of(world.household_a1)
    assert warnings_of(world.household_a2, risk_type="housing")[0].figure == "农房安全鉴定为 C 级（危房）"
    assert warnings_of(world.household_b1, risk_type="housing")


def test_education_dropout_and_the_stage_burden_setting(world):
    rows = [{"member": head(world.household_a1), "stage": "初中", "school_status": "辍学"},
            {"member": head(world.household_a2), "stage": "高中", "school_status": "在校"}]  # fmt: skip
    upload(world, "education", rows)
    assert warnings_of(world.household_a1, risk_type="education")[0].figure == "学生辍学（初中）"
    assert not warnings_of(world.household_a2)
    WarningSettings.objects.create(county=world.county, effective_from=datetime.date(2026, 2, 1),
                                   education_burden_stages="高中、大专及以上")  # fmt: skip
    upload(world, "education", rows, period="2026-02")
    (burden,) = warnings_of(world.household_a2)
    assert burden.severity == "yellow" and burden.figure == "家中有高中在校生，就学负担较重"


def test_unemployment(world):
    upload(world, "human_resources", [{"member": head(world.household_a1), "employment_status": "失业",
                                       "status_date": "2026-01-10"},
                                      {"member": head(world.household_a2), "employment_status": "就业"}])  # fmt: skip
    (warning,) = warnings_of(world.household_a1, risk_type="employment")
    assert warning.figure == "就业状态：失业（2026-01-10）"
    assert not warnings_of(world.household_a2)


def test_loan_overdue_beyond_n_days(world):
    upload(world, "finance", [
        {"member": head(world.household_a1), "overdue_days": "30", "overdue_amount": "5000", "loan_type": "小额信贷"},
        {"member": head(world.household_a2), "overdue_days": "31", "overdue_amount": "20000", "loan_type": "小额信贷"},
    ])  # fmt: skip
    assert not warnings_of(world.household_a1)
    assert warnings_of(world.household_a2, risk_type="loan")[0].figure == (
        "小额信贷逾期 31 天，逾期金额 20,000 元，超过 30 天"
    )


def test_new_dibao_recipient_outside_monitoring_is_reviewed(world):
    MonitoringCase.objects.create(
        household=world.household_a2, channel="self_declared", discovered_on=datetime.date(2026, 1, 2), reason="x"
    )
    upload(world, "civil_affairs", [
        {"member": head(world.household_a1), "assistance_type": "低保", "start_date": "2026-01-01"},
        {"member": head(world.household_a2), "assistance_type": "特困", "start_date": "2026-01-01"},
        {"member": head(world.household_b1), "assistance_type": "低保", "start_date": "2024-01-01"},
    ])  # fmt: skip
    (warning,) = warnings_of(world.household_a1)
    assert warning.risk_type == "assistance"
    assert warning.figure == "2026-01-01 起享受低保，尚未纳入监测，需同步识别复核"
    assert not warnings_of(world.household_a2) and not warnings_of(world.household_b1)


def test_a_person_in_no_household_is_a_registration_lead_once(world):
    from .helpers import person_id

    stranger = person_id(7)
    rows = [{"id_number": stranger, "name": "陌生人", "assistance_type": "低保", "start_date": "2026-01-01"}]
    upload(world, "civil_affairs", rows)
    upload(world, "civil_affairs", rows)
    (lead,) = RiskWarning.objects.filter(risk_type="registration")
    assert lead.household is None and lead.id_number == stranger and lead.village is None
    assert lead.state == WarningState.NEW and lead.figure == "民政数据中有此人（陌生人），但本县农户登记中没有"


def test_no_registration_leads_from_a_whole_county_medical_file(world):
    from .helpers import person_id

    upload(world, MEDICAL, [medical(person_id(3), "100")])
    assert not RiskWarning.objects.exists()


def test_rules_read_only_their_own_countys_rows(world):
    other = f.make_household(world.other_village)
    f.make_department(world.other_county, "housing")
    upload(world, "housing", [{"member": head(other), "grade": "D"}])
    assert not RiskWarning.objects.exists()
