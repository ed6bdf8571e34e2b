"""The asset cross-check (信息比对, issue 10 point 9; DOMAIN.md §3, §6): reads.

The county's lists of vehicles (公安车管), property (不动产登记), business registrations
(市场监管), public payroll (财政供养) and housing-fund contributions (公积金) come in through
the same intake as every department file (a layout each, `screening.layouts.ASSET_KINDS`),
matched to the registry's members by ID number. A list is a snapshot: the one in force is each
department's latest current upload. Every row of it that belongs to a member of a household
whose case is under identification is a *finding* on that case, shown with its evidence, for
people to judge; it never rejects anything by itself.

The county officer records the comparison's result (`AssetComparison`) before the county
determination; `determination_problems` is the check monitoring's `county_approve` asks for
through `settings.FANPIN_DETERMINATION_CHECKS` (monitoring imports nothing from here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Exists, FilteredRelation, OuterRef, Q, Subquery

from households.models import Area, Department
from households.selectors import AnyUser
from monitoring import selectors as monitoring_selectors
from monitoring.county_settings import in_read_only_request, read_once
from monitoring.models import IDENTIFICATION_STATES, MonitoringCase, State

from .layouts import ASSET_KINDS
from .models import AssetComparison, ScreeningRow, ScreeningUpload
from .rules import yuan

Kind = Department.Kind
# The case event asset_comparison_record writes with each comparison.
COMPARISON_ACTION = "asset_comparison"


@dataclass(frozen=True)
class AssetList:
    """One department's list in force: its latest current upload."""

    department: str  # the Department.Kind
    department_label: str
    period: str  # YYYY-MM
    upload: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Finding:
    """One row of an asset list that belongs to a member of the case's household."""

    key: str  # department and record: the same record in a re-uploaded list is the same finding
    department: str
    department_label: str
    period: str
    upload: int
    row: int
    id_number: str
    name: str
    name_differs: bool
    figure: str
    cells: dict[str, str]  # the row's other columns

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _latest_uploads() -> Subquery:
    latest = ScreeningUpload.objects.filter(department=OuterRef("department"), is_current=True).order_by(
        "-period", "-pk"
    )
    return Subquery(latest.values("pk")[:1])


def asset_lists(county: Area) -> list[AssetList]:
    """The lists in force in the county, one per asset department that has sent one (read once
    per read-only request)."""
    return list(read_once(("asset_lists", county.pk), lambda: _asset_lists(county)))


def _asset_lists(county: Area) -> list[AssetList]:
    uploads = (
        ScreeningUpload.objects.filter(department__county=county, department__kind__in=ASSET_KINDS, is_current=True)
        .order_by("department__kind", "-period", "-pk")
        .values("pk", "period", "department__kind")
    )
    seen: dict[str, AssetList] = {}
    for u in uploads:
        kind = u["department__kind"]
        if kind not in seen:
            seen[kind] = AssetList(kind, str(Kind(kind).label), f"{u['period']:%Y-%m}", u["pk"])
    return [seen[k] for k in ASSET_KINDS if k in seen]


def _money(text: str) -> str:
    try:
        return f"{yuan(Decimal(text))} 元"
    except (InvalidOperation, ValueError):
        return text


def _details(*parts: str) -> str:
    filled = [p for p in parts if p]
    return f"（{'，'.join(filled)}）" if filled else ""


def finding_figure(kind: str, data: dict[str, str]) -> str:
    """What the row says, in one Chinese sentence."""
    d = {k: (v or "").strip() for k, v in data.items()}
    if kind == Kind.VEHICLES:
        registered = f"{d['registered_on']} 登记" if d.get("registered_on") else ""
        return f"名下登记车辆 {d.get('plate', '')}" + _details(
            d.get("vehicle_type", ""), d.get("brand", ""), registered, d.get("vehicle_status", "")
        )
    if kind == Kind.PROPERTY:
        area = f"建筑面积 {d['floor_area']} 平方米" if d.get("floor_area") else ""
        return f"名下不动产 {d.get('certificate', '')}" + _details(d.get("location", ""), d.get("use", ""), area)
    if kind == Kind.BUSINESS:
        capital = f"注册资本 {_money(d['capital'])}" if d.get("capital") else ""
        founded = f"{d['founded_on']} 成立" if d.get("founded_on") else ""
        role = d.get("position") or "登记"
        return f"{role}：市场主体“{d.get('business_name', '')}”" + _details(
            d.get("entity_type", ""), capital, founded, d.get("business_status", "")
        )
    if kind == Kind.PAYROLL:
        pay = f"月工资 {_money(d['monthly_pay'])}" if d.get("monthly_pay") else ""
        return f"财政供养人员：{d.get('employer', '')}{d.get('post', '')}" + _details(d.get("payroll_type", ""), pay)
    if kind == Kind.HOUSING_FUND:
        deposit = f"月缴存额 {_money(d['monthly_deposit'])}" if d.get("monthly_deposit") else ""
        return f"在“{d.get('employer', '')}”缴存住房公积金" + _details(deposit, d.get("deposit_status", ""))
    return "；".join(v for v in d.values() if v)


def household_findings(household_id: int, county_id: int) -> list[Finding]:
    """Every row of the county's asset lists in force that belongs to a member of the household
    (one query)."""
    rows = (
        ScreeningRow.objects.filter(
            household_id=household_id,
            department__county_id=county_id,
            department__kind__in=ASSET_KINDS,
            upload_id=_latest_uploads(),
        )
        .order_by("department__kind", "row_number")
        .values(
            "department__kind", "record_key", "period", "upload_id", "row_number", "id_number", "name",
            "name_differs", "data",
        )
    )  # fmt: skip
    return _findings(rows)


ROW_FIELDS = ("record_key", "period", "row_number", "id_number", "name", "name_differs", "data")


def _findings(rows: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """Findings from rows of `department__kind`, `upload_id` and ROW_FIELDS, in the kinds' order."""
    order = {k: i for i, k in enumerate(ASSET_KINDS)}
    found = [
        Finding(
            key=f"{r['department__kind']}:{r['record_key']}",
            department=r["department__kind"],
            department_label=str(Kind(r["department__kind"]).label),
            period=f"{r['period']:%Y-%m}",
            upload=r["upload_id"],
            row=r["row_number"],
            id_number=r["id_number"],
            name=r["name"],
            name_differs=r["name_differs"],
            figure=finding_figure(r["department__kind"], r["data"] or {}),
            cells={k: str(v) for k, v in (r["data"] or {}).items() if k not in ("id_number", "name") and v},
        )
        for r in rows
    ]
    return sorted(found, key=lambda f: (order[f.department], f.row))


def case_county(case: MonitoringCase) -> Area:
    county: Area = case.household.village.county
    return county


def case_findings(case: MonitoringCase) -> list[Finding]:
    """The findings on a case under identification; none once it left identification (what was
    judged then stays in its recorded comparison). On a page, read with the county's lists in
    force (findings_and_lists)."""
    if case.state not in IDENTIFICATION_STATES:
        return []
    if in_read_only_request():
        return findings_and_lists(case)[0]
    return household_findings(case.household_id, case_county(case).pk)


def findings_and_lists(case: MonitoringCase) -> tuple[list[Finding], list[AssetList]]:
    """A case's findings (case_findings) and its county's lists in force (asset_lists), in one
    query on a page (once per read-only request): the county's current uploads, each joined to
    the household's rows of it. Two queries before."""
    county = case_county(case)
    if case.state not in IDENTIFICATION_STATES:
        return [], asset_lists(county)
    findings, lists = read_once(
        ("asset_findings_and_lists", case.pk), lambda: _read_findings_and_lists(case.household_id, county.pk)
    )
    read_once(("asset_lists", county.pk), lambda: lists)  # asset_lists(county) answers from it
    return list(findings), list(lists)


def _read_findings_and_lists(household_id: int, county_id: int) -> tuple[list[Finding], list[AssetList]]:
    rows = (
        ScreeningUpload.objects.filter(
            department__county_id=county_id, department__kind__in=ASSET_KINDS, is_current=True
        )
        .annotate(mine=FilteredRelation("rows", condition=Q(rows__household_id=household_id)))
        .order_by("department__kind", "-period", "-pk", "mine__row_number")
        .values("pk", "period", "department_id", "department__kind", "mine__id", *(f"mine__{f}" for f in ROW_FIELDS))
    )
    latest: dict[int, int] = {}  # department -> its latest current upload (the first in this order)
    lists: dict[str, AssetList] = {}
    mine = []
    for r in rows:
        kind = r["department__kind"]
        latest.setdefault(r["department_id"], r["pk"])
        if kind not in lists:
            lists[kind] = AssetList(kind, str(Kind(kind).label), f"{r['period']:%Y-%m}", r["pk"])
        if r["mine__id"] is not None and latest[r["department_id"]] == r["pk"]:
            mine.append({"department__kind": kind, "upload_id": r["pk"], **{f: r[f"mine__{f}"] for f in ROW_FIELDS}})
    return _findings(mine), [lists[k] for k in ASSET_KINDS if k in lists]


def latest_comparison(case: MonitoringCase) -> AssetComparison | None:
    if in_read_only_request():  # the case page lists them all anyway: one read for both
        history = comparisons(case)
        return history[0] if history else None
    return AssetComparison.objects.filter(case=case).select_related("recorded_by").first()


def comparisons(case: MonitoringCase) -> list[AssetComparison]:
    """Newest first (the model's order); read once per read-only request. None were recorded
    when the case's timeline, read by the page (`case.recorded_actions`), has no comparison
    event (asset_comparison_record writes one with each): then nothing is asked."""
    recorded = getattr(case, "recorded_actions", None)
    if recorded is not None and COMPARISON_ACTION not in recorded:
        return []
    return list(
        read_once(
            ("asset_comparisons", case.pk),
            lambda: list(AssetComparison.objects.filter(case=case).select_related("recorded_by")),
        )
    )


def new_since(
    comparison: AssetComparison, findings: list[Finding], lists: list[AssetList]
) -> tuple[list[Finding], list[AssetList]]:
    """What arrived after the comparison was recorded: findings it did not see, and lists it did
    not have when it said none had been received."""
    seen = {item.get("key") for item in comparison.findings}
    fresh = [f for f in findings if f.key not in seen]
    had = {item.get("upload") for item in comparison.lists}
    fresh_lists = (
        [x for x in lists if x.upload not in had] if comparison.result == AssetComparison.Result.NO_LISTS else []
    )
    return fresh, fresh_lists


MISSING = (
    "尚未记录信息比对结果：请县乡村振兴局核对车辆、不动产、市场主体、财政供养和公积金信息后记录比对结果"
    "（未发现或发现财产信息，并说明）；尚未收到比对数据的，记录“未收到比对数据”并说明。"
)


def determination_problems(case: MonitoringCase) -> list[str]:
    """Why the county may not determine the case yet as far as the asset cross-check goes
    (named in settings.FANPIN_DETERMINATION_CHECKS): no comparison recorded, or findings or
    lists that arrived after it. A finding itself never blocks: people judge it."""
    if case.state not in IDENTIFICATION_STATES or case.pk is None:
        return []
    comparison = latest_comparison(case)
    if comparison is None:
        return [MISSING]
    fresh, fresh_lists = new_since(comparison, case_findings(case), asset_lists(case_county(case)))
    problems = []
    if fresh:
        labels = "、".join(dict.fromkeys(f.department_label for f in fresh))
        problems.append(f"记录比对结果后又收到 {len(fresh)} 条新的比对信息（{labels}），请核实后重新记录比对结果。")
    if fresh_lists:
        labels = "、".join(x.department_label for x in fresh_lists)
        problems.append(f"记录“未收到比对数据”后已收到{labels}的数据，请重新比对并记录结果。")
    return problems


def asset_case_for(user: AnyUser, case_id: object) -> MonitoringCase:
    """The case, in the user's scope (404 outside it)."""
    return monitoring_selectors.case_for(user, case_id)


def awaiting_comparison_q() -> Q:
    """Cases at county review without a recorded comparison (the county officer's 待记录信息比对结果)."""
    return Q(state=State.COUNTY_REVIEW) & ~Q(Exists(AssetComparison.objects.filter(case=OuterRef("pk"))))
