"""The asset cross-check (信息比对, issue 10 point 9): the county officer records the result.

`asset_comparison_record` is the one action: scope (404 outside it), permission (the county
officer of the case's county), lock (the case row, through monitoring's selector), the check of
the state and the note, the record with the findings and lists it was judged on, and an event
on the case's timeline (monitoring's `case_event_record`), in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from households import selectors as household_selectors
from households.models import Role
from households.selectors import AnyUser
from monitoring import services as monitoring_services
from monitoring.models import IDENTIFICATION_STATES
from monitoring.selectors import case_for_update

from .asset_selectors import COMPARISON_ACTION, asset_lists, case_county, case_findings, latest_comparison
from .models import AssetComparison

Conflict = monitoring_services.Conflict
Result = AssetComparison.Result


def may_record(user: AnyUser, county_path: str) -> bool:
    return any(
        r.role == Role.COUNTY_OFFICER and r.area is not None and county_path.startswith(r.area.path)
        for r in household_selectors.user_roles(user)
    )


@transaction.atomic
def asset_comparison_record(*, user: AnyUser, case_id: object, result: str, note: str = "") -> AssetComparison:
    """Record the comparison's result for a case under identification. A note is required
    unless nothing was found in lists that were received; recording the same result on the same
    findings twice is a double submit (409)."""
    case = case_for_update(user, case_id)
    county = case_county(case)
    if not may_record(user, county.path):
        raise PermissionDenied("只有县乡村振兴局可以记录信息比对结果。")
    if not isinstance(user, User):  # pragma: no cover - the scope check answered 404 for anonymous
        raise PermissionDenied("请先登录。")
    if case.state not in IDENTIFICATION_STATES:
        raise Conflict(
            f"当前状态为“{case.get_state_display()}”：信息比对在认定阶段（县级认定前）记录。",
            ["该监测对象已不在认定阶段。"],
        )
    if result not in Result.values:
        raise ValidationError({"result": "请选择比对结果：未发现财产信息、发现财产信息或未收到比对数据。"})
    note = (note or "").strip()
    findings = case_findings(case)
    lists = asset_lists(county)
    if not note:
        if result == Result.FOUND:
            raise ValidationError({"note": "请说明发现的财产信息及是否影响认定。"})
        if result == Result.NO_LISTS:
            raise ValidationError({"note": "请说明尚未收到哪些比对数据，以及是否已通过其他途径核实。"})
        if findings:
            raise ValidationError({"note": f"系统比对到 {len(findings)} 条信息，记录“未发现”时请说明核实情况。"})
    if result == Result.NO_LISTS and len(lists) == 5:
        raise ValidationError({"result": "五类比对数据均已收到，请根据比对情况记录“未发现”或“发现财产信息”。"})
    snapshot = [f.as_dict() for f in findings]
    previous = latest_comparison(case)
    if previous is not None and (previous.result, previous.note, previous.findings) == (result, note, snapshot):
        raise Conflict("已记录相同的比对结果，请勿重复提交。", ["已记录相同的比对结果。"])
    comparison = AssetComparison.objects.create(
        case=case, result=result, note=note, findings=snapshot, lists=[x.as_dict() for x in lists], recorded_by=user
    )
    monitoring_services.case_event_record(
        user=user,
        case_id=case.pk,
        action=COMPARISON_ACTION,
        label=f"信息比对：{comparison.get_result_display()}",
        comment=_timeline_comment(comparison, snapshot),
        payload={
            "comparison": comparison.pk,
            "result": result,
            "findings": [{k: f[k] for k in ("key", "department", "period", "upload", "row")} for f in snapshot],
            "lists": [x.as_dict() for x in lists],
        },
    )
    return comparison


def _timeline_comment(comparison: AssetComparison, findings: list[dict[str, Any]]) -> str:
    lines = [f"{f['department_label']}：{f['name']} {f['figure']}" for f in findings]
    received = "、".join(f"{x['department_label']}（{x['period']}）" for x in comparison.lists) or "无"
    lines.append(f"已收到的比对数据：{received}")
    if comparison.note:
        lines.append(f"说明：{comparison.note}")
    return "\n".join(lines)
