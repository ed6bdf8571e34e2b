"""The demo county's department month (issue 10 point 10): 医保, 残联, 住建 and 民政 files of
last month, built from the registry and uploaded through the real path (stored file, chunks,
matching, the rules), then a few warnings dispatched, included and excluded through the
services, so the inbox shows every state and tier to `village`, `town` and `county`, and
`medical` sees its upload's outcome."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.utils import timezone

from households import idnumber
from households.models import Area, Household, Member
from monitoring.models import IDENTIFICATION_STATES, OPEN_STATES, MonitoringCase, State

from . import asset_services, services, warning_services
from .layouts import layout_for
from .models import AssetComparison, RiskWarning, RuralIncome, ScreeningUpload, WarningSettings, WarningState

SEED = 20260110


def _csv(kind: str, rows: list[dict[str, Any]]) -> bytes:
    columns = layout_for(kind).all_columns
    lines = [",".join(c.header for c in columns)]
    lines += [",".join(str(row.get(c.key, "")) for c in columns) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")  # as the offices send them


def _upload(user: Any, kind: str, period: str, rows: list[dict[str, Any]], county: Area) -> ScreeningUpload:
    upload = services.upload_create(
        user=user,
        kind=kind,
        period=period,
        upload=SimpleUploadedFile(f"{layout_for(kind).title}-{period}.csv", _csv(kind, rows)),
        county=county.code,
    )
    done = services.upload_run_inline(upload_id=upload.pk)
    warning_services.run_upload_rules(upload_id=done.pk)  # the hook runs it again after commit: idempotent
    return done


def _person(member: Member) -> dict[str, Any]:
    return {"id_number": member.id_number, "name": member.name}


def seed_warnings(*, county: Area, users: dict[str, Any], today: datetime.date | None = None) -> int:
    """Upload last month's department files and settle some warnings; return the number of
    warnings. Idempotent: a county that already has warnings is left as it is."""
    today = today or timezone.localdate()
    if RiskWarning.objects.filter(county=county).exists():
        return 0
    rng = random.Random(SEED)
    month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    period = f"{month:%Y-%m}"
    with transaction.atomic():
        RuralIncome.objects.get_or_create(county=county, year=month.year - 1, defaults={"amount": Decimal("20500")})
        # The town dispatches (so some warnings wait as 待下发 in the town's inbox).
        WarningSettings.objects.get_or_create(county=county, effective_from=datetime.date(2000, 1, 1),
                                              defaults={"auto_dispatch": False, "scale_count": 4})  # fmt: skip
        town = users["town"].roles.first().area
        village = users["village"].roles.first().area
        households = list(
            Household.objects.filter(village__parent=town)
            .order_by("village__code", "number")
            .prefetch_related("members")
        )
        with_case = set(
            MonitoringCase.objects.filter(household__in=households, state__in=OPEN_STATES).values_list(
                "household_id", flat=True
            )
        )
        in_village = [h for h in households if h.village_id == village.pk]
        # The village's households first (those with an open case show a warning attached to it),
        # then households of the town's other villages without a case.
        in_village.sort(key=lambda h: h.pk in with_case)
        others = [h for h in households if h.village_id != village.pk and h.pk not in with_case]
        rng.shuffle(others)
        picks = in_village[:2] + others[:4] + in_village[2:4] + others[4:6] + in_village[4:6] + others[6:14]
        heads = [sorted(h.members.all(), key=lambda m: m.pk)[0] for h in picks if h.members.all()]
        day = month + datetime.timedelta(days=9)

        medical = [
            {**_person(m), "visit_date": day, "total_cost": "46000", "reimbursed": "12000", "self_paid": "34000",
             "inpatient": "是", "institution": "县人民医院"}
            for m in heads[0:4]
        ] + [
            {**_person(m), "visit_date": day, "total_cost": "30000", "reimbursed": "18000", "self_paid": "12000",
             "inpatient": "是", "institution": "市中心医院"}
            for m in heads[4:6]
        ]  # fmt: skip
        _upload(users["medical"], "medical_insurance", period, medical, county)
        _upload(users["county"], "disabled_federation", period, [
            {**_person(m), "disability_category": "肢体残疾", "disability_level": 2, "certified_on": day}
            for m in heads[6:8]
        ], county)  # fmt: skip
        _upload(users["county"], "housing", period, [
            {**_person(m), "grade": grade, "assessed_on": day} for m, grade in zip(heads[8:12], "DCDC", strict=False)
        ], county)  # fmt: skip
        stranger = {"id_number": idnumber.make("110101", datetime.date(1990, 3, 7), 451), "name": "周新民"}
        _upload(users["county"], "civil_affairs", period, [
            *({**_person(m), "assistance_type": "低保", "start_date": month, "amount": "650"} for m in heads[12:15]),
            {**stranger, "assistance_type": "特困", "start_date": month, "amount": "900"},
        ], county)  # fmt: skip

        _asset_lists(users, county, period, households, rng)

        # Settle some: the town dispatches most, the village includes two and excludes one.
        warnings = list(RiskWarning.objects.filter(county=county, household__isnull=False).order_by("pk"))
        for warning in warnings[:-3]:
            warning_services.warning_dispatch(user=users["town"], warning_id=warning.pk)
        mine = [w for w in warnings[:-3] if w.village_id == village.pk]
        decisions = [("included", "已入户核实，医疗费用负担重，情况属实。"), ("excluded", "已获医疗救助和大病保险二次报销，风险已化解。"),
                     ("included", "入户核实属实。")]  # fmt: skip
        for warning, (decision, reason) in zip(mine, decisions, strict=False):
            warning_services.warning_verify(user=users["village"], warning_id=warning.pk, decision=decision,
                                            reason=reason)  # fmt: skip
        # Age: some leads have waited (tiers rise with the days unverified).
        open_ones = RiskWarning.objects.filter(county=county, state__in=[WarningState.NEW, WarningState.DISPATCHED])
        for n, pk in enumerate(open_ones.order_by("pk").values_list("pk", flat=True)):
            if n % 3:
                RiskWarning.objects.filter(pk=pk).update(raised_on=today - datetime.timedelta(days=7 * (n % 3)))
    return RiskWarning.objects.filter(county=county).count()


def record_comparison(*, case: MonitoringCase, user: Any, day: datetime.date) -> None:
    """Before each demo determination (monitoring/demo.py calls it): the county's asset
    comparison, done by letters to the departments before their lists were kept in fanpin."""
    asset_services.asset_comparison_record(
        user=user,
        case_id=case.pk,
        result=AssetComparison.Result.NONE_FOUND,
        note="已函询公安、不动产登记、市场监管、财政、公积金部门，均未发现该户家庭成员有车辆、商品房、经营主体、财政供养或公积金缴存信息。",
    )


def _asset_lists(
    users: dict[str, Any], county: Area, period: str, households: list[Household], rng: random.Random
) -> None:
    """The county's vehicle and payroll lists (信息比对): a few people of the registry, one of
    them a member of a household at county review, so its case shows a finding to judge."""
    reviewing = list(
        MonitoringCase.objects.filter(household__village__path__startswith=county.path, state__in=IDENTIFICATION_STATES)
        .order_by(models.Case(models.When(state=State.COUNTY_REVIEW, then=0), default=1), "pk")
        .select_related("household")[:2]
    )
    under_review = set(
        MonitoringCase.objects.filter(
            household__village__path__startswith=county.path, state__in=IDENTIFICATION_STATES
        ).values_list("household_id", flat=True)
    )
    others = [h for h in households if h.pk not in under_review and h.members.all()]
    owners = [sorted(h.members.all(), key=lambda m: m.pk)[-1] for h in rng.sample(others, min(4, len(others)))]
    found = [c.household.members.order_by("pk").last() for c in reviewing]
    vehicles = [
        {**_person(m), "plate": f"粤V{10000 + n * 137}", "vehicle_type": "小型轿车", "brand": "比亚迪秦",
         "registered_on": "2024-06-18", "vehicle_status": "正常"}
        for n, m in enumerate([*found[:1], *owners[:3]]) if m is not None
    ]  # fmt: skip
    payroll = [
        {**_person(m), "employer": "清河县第二中学", "post": "教师", "payroll_type": "在职", "monthly_pay": "6200"}
        for m in [*found[1:2], *owners[3:4]] if m is not None
    ]  # fmt: skip
    _upload(users["county"], "vehicles", period, vehicles, county)
    _upload(users["county"], "payroll", period, payroll, county)


def wipe_warnings(county: Area) -> None:
    AssetComparison.objects.filter(case__household__village__path__startswith=county.path).delete()
    RiskWarning.objects.filter(county=county).delete()
    from .models import ScaleAlert

    ScaleAlert.objects.filter(county=county).delete()
    ScreeningUpload.objects.filter(department__county=county).delete()
    WarningSettings.objects.filter(county=county).delete()
    RuralIncome.objects.filter(county=county).delete()
