"""Platform rules over the registry (monthly, beat and command), scale-risk alerts raised once,
and the alert quality figures (issue 10 points 2, 7, 8)."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from monitoring.models import MonitoringCase, MonitoringLine
from screening import warning_selectors, warning_services
from screening.models import RiskWarning, ScaleAlert, WarningSettings
from tests import factories as f

from .warning_helpers import head, upload

pytestmark = pytest.mark.django_db
PERIOD = datetime.date(2026, 3, 1)


def income(household, year, wage, **parts):
    return f.make_income(household, year=year, wage_income=wage, **parts)


def platform(world):
    return warning_services.run_platform_rules(period=PERIOD, county=world.county)


def test_income_below_the_line_for_a_household_not_monitored(world):
    MonitoringLine.objects.create(county=world.county, year=2025, amount=Decimal("7000"))
    income(world.household_a1, 2025, 20999)  # 3 members: 6,999.67 per person
    income(world.household_a2, 2025, 14000)  # 2 members: 7,000, not below
    income(world.household_b1, 2025, 2000)
    MonitoringCase.objects.create(household=world.household_b1, channel="self_declared",
                                  discovered_on=datetime.date(2026, 1, 2), reason="x")  # fmt: skip
    result = platform(world)
    (warning,) = RiskWarning.objects.all()
    assert result.created == 1 and warning.household == world.household_a1
    assert warning.figure == "2025 年人均纯收入 6,999.67 元，低于监测线 7,000 元"
    assert (warning.department, warning.risk_type, warning.severity) == ("platform", "income", "red")


def test_income_drop_beyond_the_share(world):
    income(world.household_a1, 2024, 30000)
    income(world.household_a1, 2025, 21000)  # -30 %: not beyond
    income(world.household_a2, 2024, 30000)
    income(world.household_a2, 2025, 20000)  # -33 %
    platform(world)
    (warning,) = RiskWarning.objects.all()
    assert warning.household == world.household_a2 and warning.rule == "income_drop"
    assert warning.figure == "2025 年人均纯收入 10,000 元，比上年 15,000 元下降超过 30 %"


def test_rigid_expenditure_above_income(world):
    income(world.household_a1, 2025, 20000, medical_expense=15000, education_expense=5000)  # equal: not above
    income(world.household_a2, 2025, 20000, medical_expense=15000, education_expense=5001)
    platform(world)
    (warning,) = RiskWarning.objects.all()
    assert warning.household == world.household_a2 and warning.risk_type == "expenditure"


def test_platform_reruns_never_duplicate_and_the_command_prints_the_summary(world, capsys):
    MonitoringLine.objects.create(county=world.county, year=2025, amount=Decimal("7000"))
    income(world.household_a1, 2025, 3000)
    call_command("run_platform_rules", "--period", "2026-03")
    call_command("run_platform_rules", "--period", "2026-03")
    out = capsys.readouterr().out
    assert "新增预警 1 条" in out and "未变 1 条" in out
    assert RiskWarning.objects.count() == 1
    assert RiskWarning.objects.get().period == PERIOD


def test_the_platform_rules_read_one_query_per_rule_whatever_the_households(world, django_assert_max_num_queries):
    MonitoringLine.objects.create(county=world.county, year=2025, amount=Decimal("7000"))
    for _ in range(15):
        income(f.make_household(world.village_a1, members=1), 2025, 1000)
    with django_assert_max_num_queries(40):
        assert platform(world).created == 15


def test_the_monthly_beat_schedule_exists_and_runs_the_platform_rules(world):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="screening.run_platform_rules")
    assert task.enabled and task.crontab.day_of_month == "1"
    MonitoringLine.objects.create(county=world.county, year=2025, amount=Decimal("7000"))
    income(world.household_a1, 2025, 3000)
    from screening.tasks import run_platform_rules

    run_platform_rules.delay("2026-03")
    assert RiskWarning.objects.filter(department="platform").count() == 1


def test_verifying_a_platform_warning_opens_a_case_with_the_platform_channel(world):
    MonitoringLine.objects.create(county=world.county, year=2025, amount=Decimal("7000"))
    income(world.household_a1, 2025, 3000)
    platform(world)
    warning = warning_services.warning_verify(user=world.village_cadre, warning_id=RiskWarning.objects.get().pk,
                                              decision="included", reason="入户核实收入确实偏低")  # fmt: skip
    assert warning.case.channel == "platform_warning" and warning.case.primary_risk == "other"
    assert warning.case.risk_note == "收入骤减或低于监测线"


# --- scale alerts ---------------------------------------------------------------------------------


def flood(world, households):
    upload(
        world, "emergency", [{"member": head(h), "disaster_date": "2026-01-20", "loss": "20000"} for h in households]
    )


def test_a_scale_alert_is_raised_once_per_area_risk_and_period(world):
    WarningSettings.objects.create(county=world.county, scale_count=3, scale_share=100)
    village = world.village_a1
    extra = [f.make_household(village) for _ in range(2)]
    flood(world, [world.household_a1, *extra[:1]])
    assert not ScaleAlert.objects.exists()
    flood(world, [world.household_a1, *extra])
    flood(world, [world.household_a1, *extra])
    alerts = ScaleAlert.objects.filter(risk_type="disaster")
    assert {(a.area, a.households) for a in alerts} == {(village, 3), (world.town_a, 3)}
    (village_alert,) = [a for a in alerts if a.area == village]
    assert set(warning_selectors.alert_warnings(village_alert).values_list("household", flat=True)) == {
        world.household_a1.pk,
        *(h.pk for h in extra),
    }


def test_a_scale_alert_by_share_of_households(world):
    WarningSettings.objects.create(county=world.county, scale_count=100, scale_share=50)
    flood(world, [world.household_b1])  # the only household of 西河村 and of 西河镇
    assert set(ScaleAlert.objects.values_list("area__name", flat=True)) == {"西河村", "西河镇"}


def test_alerts_api_is_for_the_county(world):
    WarningSettings.objects.create(county=world.county, scale_count=1)
    flood(world, [world.household_a1])
    client = APIClient()
    client.force_authenticate(world.county_officer)
    body = client.get("/api/screening/alerts/").json()
    assert {a["area_name"] for a in body["results"]} == {"东山村", "东山镇"}
    assert body["results"][0]["risk_type"] == "disaster" and body["results"][0]["period"] == "2026-01"
    client.force_authenticate(world.village_cadre)
    assert client.get("/api/screening/alerts/").json()["results"] == []


def test_rule_quality_is_the_share_of_verified_that_were_included(world):
    flood(world, [world.household_a1, world.household_a2, world.household_b1])
    a1, a2, b1 = RiskWarning.objects.order_by("household_id")
    warning_services.warning_verify(user=world.village_cadre, warning_id=a1.pk, decision="included", reason="属实")
    warning_services.warning_verify(user=world.town_official, warning_id=a2.pk, decision="excluded", reason="已恢复")
    (row,) = warning_selectors.rule_quality(world.county_officer)
    assert (row["rule"], row["total"], row["verified"], row["included"], row["precision"]) == (
        "disaster_loss",
        3,
        2,
        1,
        50.0,
    )
    assert warning_selectors.rule_quality(world.village_cadre) == []
