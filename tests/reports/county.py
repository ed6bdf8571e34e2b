"""A small county whose figures are counted by hand (tests/reports/test_dashboard.py says what
each role must see).

Cases (T = today; d = determined_on):
  c1 village_a1 monitored            edge     illness    + [disability, employment]  d T-10
  c2 village_a1 monitored            unstable disability + [illness]                 d T-60  no visit, no measure
  c3 village_a2 elimination_appraisal sudden  illness                                d T-90
  c4 village_b1 monitored            edge     disaster                               d T-40  visited T-5, one measure
  c5 village_a1 eliminated           edge     illness                                d T-240, eliminated T-20
  c6 village_a2 reported (discovered T-40: past the 15-day limit)
  c7 village_b1 reported (discovered T)
  c9 village_b1 closed (自然减少), ended T
  c8 other county, monitored: never counted for this county's users
Warnings: w1 a1 医保 red new; w2 a1 医保 orange dispatched; w3 b1 住建 yellow dispatched, raised
T-20 (two tiers up: red); w4 a2 民政 included; w5 other county new.
One scale alert in village_a1.
"""

import datetime

from assistance.catalogue import install_default_catalogue
from assistance.models import Measure
from monitoring.models import MonitoringCase, Visit
from screening.models import RiskWarning, ScaleAlert
from tests import factories as f

T = datetime.date.today()


def days(n):
    return T - datetime.timedelta(days=n)


def make_case(village, state, **fields):
    household = fields.pop("household", None) or f.make_household(village, members=2)
    fields.setdefault("discovered_on", fields.get("determined_on") or T)
    if fields.get("determined_on") and fields["discovered_on"] > fields["determined_on"]:
        fields["discovered_on"] = fields["determined_on"]
    return MonitoringCase.objects.create(
        household=household, state=state, channel="cadre_visit", reason="测试", **fields
    )


def make_warning(w, village, household, department, severity, state, raised_on=T, risk="illness"):
    from django.utils import timezone

    return RiskWarning.objects.create(
        county=village.parent.parent,
        town=village.parent,
        village=village,
        household=household,
        risk_type=risk,
        period=datetime.date(T.year, T.month, 1),
        rule="test_rule",
        department=department,
        severity=severity,
        figure="测试数据",
        state=state,
        raised_on=raised_on,
        verified_at=timezone.now() if state in ("included", "excluded") else None,
    )


def build_board(world):
    w = world
    install_default_catalogue()
    w.c1 = make_case(
        w.village_a1,
        "monitored",
        category="edge",
        primary_risk="illness",
        secondary_risks=["disability", "employment"],
        determined_on=days(10),
    )
    w.c2 = make_case(
        w.village_a1,
        "monitored",
        category="unstable",
        primary_risk="disability",
        secondary_risks=["illness"],
        determined_on=days(60),
    )
    w.c3 = make_case(
        w.village_a2, "elimination_appraisal", category="sudden", primary_risk="illness", determined_on=days(90)
    )
    w.c4 = make_case(w.village_b1, "monitored", category="edge", primary_risk="disaster", determined_on=days(40))
    Visit.objects.create(
        household=w.c4.household, case=w.c4, visited_on=days(5), visitors="张三、李四", recorded_by=w.village_cadre_b
    )
    MonitoringCase.objects.filter(pk=w.c4.pk).update(last_visit_on=days(5))  # as visit_create keeps it
    Measure.objects.create(case=w.c4, measure_type_id="dibao")
    w.c5 = make_case(
        w.village_a1,
        "eliminated",
        category="edge",
        primary_risk="illness",
        determined_on=days(240),
        eliminated_on=days(20),
    )
    w.c6 = make_case(w.village_a2, "reported", discovered_on=days(40))
    w.c7 = make_case(w.village_b1, "reported", discovered_on=T)
    w.c9 = make_case(w.village_b1, "closed", discovered_on=days(30), ended_on=T, end_reason="全户迁出")
    w.c8 = make_case(w.other_village, "monitored", category="edge", primary_risk="illness", determined_on=days(60))

    w.w1 = make_warning(w, w.village_a1, w.c1.household, "medical_insurance", "red", "new")
    w.w2 = make_warning(w, w.village_a1, w.c1.household, "medical_insurance", "orange", "dispatched", risk="disability")
    w.w3 = make_warning(
        w, w.village_b1, w.c4.household, "housing", "yellow", "dispatched", raised_on=days(20), risk="housing"
    )
    w.w4 = make_warning(w, w.village_a2, w.c3.household, "civil_affairs", "orange", "included", risk="assistance")
    w.w5 = make_warning(w, w.other_village, w.c8.household, "medical_insurance", "red", "new")
    w.alert = ScaleAlert.objects.create(
        county=w.county,
        area=w.village_a1,
        risk_type="illness",
        period=datetime.date(T.year, T.month, 1),
        households=4,
        total_households=40,
        threshold="预警 4 户，达到 4 户",
    )
    return w
