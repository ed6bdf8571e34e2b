"""Warnings (预警): recording what the rules find, dispatching and verifying (DOMAIN.md §6, §8).

- `run_upload_rules` runs after an upload becomes its department's current data (the
  SCREENING_UPLOAD_DONE hook enqueues it on commit); `run_platform_rules` runs monthly over the
  registry (beat, and `manage.py run_platform_rules`). Both are idempotent.
- `record_hits` keeps one warning per household, risk type and period (database-enforced): a
  second finding adds its evidence to the warning; the same finding again changes nothing.
- `warning_dispatch` (new → dispatched, by the town or county) and `warning_verify`
  (→ included / excluded with a reason, by the village cadre or the town official). An
  included warning opens a case through monitoring's service (channel 部门筛查预警 / 平台预警,
  discovery date the warning's date, facts carried over) or, when the household already has an
  open case, is recorded on that case's timeline. A second submission gets `Conflict` (409).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from households import selectors as household_selectors
from households.models import Area, Household, Role
from households.selectors import AnyUser
from monitoring import services as monitoring_services
from monitoring.models import OPEN_STATES, Channel, MonitoringCase, RiskType

from .models import (
    TIER_RANK,
    RiskWarning,
    ScaleAlert,
    ScreeningUpload,
    WarningEvent,
    WarningRisk,
    WarningState,
)
from .rules import PLATFORM, Context, Hit, Rule, rules_for, warning_settings_on
from .warning_selectors import tier_now, warning_for_update

MAX_FIGURES = 3


class Conflict(Exception):
    """The warning was already verified (HTTP 409)."""


@dataclass
class RunResult:
    created: int = 0
    merged: int = 0
    unchanged: int = 0
    withdrawn: int = 0  # unverified warnings whose every finding the data no longer shows

    def add(self, other: RunResult) -> None:
        self.created += other.created
        self.merged += other.merged
        self.unchanged += other.unchanged
        self.withdrawn += other.withdrawn


# --- running the rules -----------------------------------------------------------------------


def run_upload_rules(*, upload_id: int) -> RunResult:
    """The rules of the upload's department over its period, then the county's scale check."""
    upload = ScreeningUpload.objects.select_related("department__county").filter(pk=upload_id).first()
    result = RunResult()
    if upload is None or not upload.is_current or upload.status != ScreeningUpload.Status.DONE:
        return result
    county = upload.department.county
    ctx = Context(county=county, period=upload.period, settings=warning_settings_on(county, upload.period))
    for rule in rules_for(upload.department.kind):
        result.add(record_hits(rule, ctx, rule.find(ctx)))
    scale_alerts_check(county=county, period=upload.period)
    return result


def run_platform_rules(*, period: datetime.date, county: Area | None = None) -> RunResult:
    """The platform rules over the registry for every county (or one), for `period`."""
    counties = [county] if county is not None else list(Area.objects.filter(level=Area.Level.COUNTY))
    result = RunResult()
    for c in counties:
        ctx = Context(county=c, period=period, settings=warning_settings_on(c, period))
        for rule in rules_for(PLATFORM):
            result.add(record_hits(rule, ctx, rule.find(ctx)))
        scale_alerts_check(county=c, period=period)
    return result


def _key(hit_or_warning: Hit | RiskWarning) -> tuple[int | None, str]:
    if hit_or_warning.household_id is not None:
        return (hit_or_warning.household_id, "")
    return (None, hit_or_warning.id_number)


def _figure(evidence: list[dict[str, Any]]) -> str:
    figures = list(dict.fromkeys(item["figure"] for item in evidence))
    text = "；".join(figures[:MAX_FIGURES])
    return text + (f"；等 {len(figures)} 项" if len(figures) > MAX_FIGURES else "")


def _evidence_item(rule: Rule, hit: Hit) -> dict[str, Any]:
    return {
        "key": hit.key,
        "rule": rule.code,
        "rule_label": rule.label,
        "severity": rule.severity,
        "figure": hit.figure,
        "id_number": hit.id_number,
        "name": hit.name,
        "upload": hit.upload_id,
        "rows": hit.rows,
    }


def _without_refs(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in ("upload", "rows")} for item in items]


def _merge(warning: RiskWarning, rule: Rule, hits: list[Hit]) -> str:
    """Add the hits' evidence to the warning (replacing a finding with the same key). Returns
    "new" when a finding was added or its figure changed, "refs" when only the rows cited
    changed (the same file uploaded again), "" when nothing changed."""
    items = {item["key"]: item for item in warning.evidence}
    before = list(warning.evidence)
    for hit in hits:
        items[hit.key] = _evidence_item(rule, hit)
    warning.evidence = list(items.values())
    uploads = {u for u in (*warning.uploads, *(h.upload_id for h in hits)) if u is not None}
    warning.uploads = sorted(uploads)
    if warning.evidence == before:
        return ""
    warning.figure = _figure(warning.evidence)
    top = max(warning.evidence, key=lambda item: TIER_RANK[item["severity"]])
    warning.severity, warning.rule = top["severity"], top["rule"]
    return "new" if _without_refs(warning.evidence) != _without_refs(before) else "refs"


WITHDRAWN_REASON = "部门重新报送的数据中已没有该预警的依据，预警自动撤销"
OPEN_STATES_OF_WARNINGS = (WarningState.NEW, WarningState.DISPATCHED)


def withdraw_stale(rule: Rule, ctx: Context, hits: list[Hit]) -> int:
    """A rule's run over a period is complete (every current row of the period): findings of the
    rule in the period's unverified warnings that the run no longer makes are gone from the data
    (a re-upload replaced the period's rows and dropped the person, or corrected the figure).
    They are removed from the evidence, recorded in an event; a warning left with no finding is
    withdrawn (`withdrawn_at`, out of the inbox, no longer verifiable). Verified warnings stay as
    they were. Returns the number withdrawn."""
    keys = {hit.key for hit in hits}
    candidates = RiskWarning.objects.filter(
        county=ctx.county, period=ctx.period, risk_type=rule.risk_type, state__in=OPEN_STATES_OF_WARNINGS,
        withdrawn_at__isnull=True,
    ).select_for_update()  # fmt: skip
    now = timezone.now()
    withdrawn = 0
    changed: list[RiskWarning] = []
    events: list[WarningEvent] = []
    for warning in candidates:
        gone = [item for item in warning.evidence if item["rule"] == rule.code and item["key"] not in keys]
        if not gone:
            continue
        warning.evidence = [item for item in warning.evidence if item not in gone]
        removed = {"rule": rule.code, "removed": gone}
        if warning.evidence:
            warning.figure = _figure(warning.evidence)
            top = max(warning.evidence, key=lambda item: TIER_RANK[item["severity"]])
            warning.severity, warning.rule = top["severity"], top["rule"]
            events.append(WarningEvent(warning=warning, action="evidence_removed", label=f"规则“{rule.label}”的依据已不在部门数据中",
                                       comment="；".join(item["figure"] for item in gone), payload=removed))  # fmt: skip
        else:
            warning.withdrawn_at, warning.withdrawn_reason = now, WITHDRAWN_REASON
            withdrawn += 1
            events.append(WarningEvent(warning=warning, action="withdrawn", label="预警撤销",
                                       comment=f"{WITHDRAWN_REASON}（原依据：{warning.figure}）", payload=removed))  # fmt: skip
        changed.append(warning)
    RiskWarning.objects.bulk_update(
        changed, ["evidence", "figure", "severity", "rule", "withdrawn_at", "withdrawn_reason", "updated_at"]
    )
    WarningEvent.objects.bulk_create(events)
    return withdrawn


def record_hits(rule: Rule, ctx: Context, hits: list[Hit]) -> RunResult:
    """Keep the rule's hits as warnings of `ctx.period`: one per household (or person) and
    risk type; a few queries per rule, whatever the number of hits. The run is complete for the
    period, so what it no longer finds is withdrawn from unverified warnings (`withdraw_stale`)."""
    result = RunResult()
    with transaction.atomic():
        result.withdrawn = withdraw_stale(rule, ctx, hits)
    if not hits:
        return result
    grouped: dict[tuple[int | None, str], list[Hit]] = defaultdict(list)
    for hit in hits:
        grouped[_key(hit)].append(hit)
    households = [k[0] for k in grouped if k[0] is not None]
    people = [k[1] for k in grouped if k[0] is None]
    auto = ctx.settings.auto_dispatch
    now = timezone.now()
    with transaction.atomic():
        scope = RiskWarning.objects.filter(county=ctx.county, period=ctx.period, risk_type=rule.risk_type)
        mine = Q(household_id__in=households) | Q(household__isnull=True, id_number__in=people)
        existing = {_key(w) for w in scope.filter(mine)}
        fresh = []
        for key, group in grouped.items():
            if key in existing:
                continue
            first = group[0]
            village = first.village_id is not None
            warning = RiskWarning(
                county=ctx.county,
                town_id=first.town_id,
                village_id=first.village_id,
                household_id=first.household_id,
                id_number="" if first.household_id else first.id_number,
                person_name="" if first.household_id else first.name,
                period=ctx.period,
                risk_type=rule.risk_type,
                rule=rule.code,
                department=rule.department if rule.department != "*" else "registration",
                severity=rule.severity,
                state=WarningState.DISPATCHED if auto and village else WarningState.NEW,
                dispatched_at=now if auto and village else None,
                raised_on=timezone.localdate(),
            )
            _merge(warning, rule, group)
            fresh.append(warning)
        RiskWarning.objects.bulk_create(fresh, ignore_conflicts=True)
        locked = list(scope.filter(mine).select_for_update())
        events = []
        changed = []
        for warning in locked:
            key = _key(warning)
            if key not in existing:
                result.created += 1
                events.append(
                    WarningEvent(warning=warning, action="raised", label=f"规则“{rule.label}”生成预警",
                                 comment=warning.figure, payload={"rule": rule.code})
                )  # fmt: skip
                if warning.state == WarningState.DISPATCHED:
                    events.append(WarningEvent(warning=warning, action="dispatched", label="自动下发到村"))
                continue
            merged = _merge(warning, rule, grouped[key])
            if merged and warning.withdrawn_at is not None and warning.is_open_state:
                # Back in the data (the department corrected its file again): the warning returns.
                warning.withdrawn_at, warning.withdrawn_reason = None, ""
                events.append(WarningEvent(warning=warning, action="reinstated", label="依据重新出现在部门数据中，预警恢复",
                                           comment=warning.figure, payload={"rule": rule.code}))  # fmt: skip
            if merged:
                changed.append(warning)
            if merged == "new":
                result.merged += 1
                events.append(
                    WarningEvent(warning=warning, action="evidence", label=f"规则“{rule.label}”补充证据",
                                 comment=warning.figure, payload={"rule": rule.code})
                )  # fmt: skip
            else:
                result.unchanged += 1
        RiskWarning.objects.bulk_update(
            changed,
            ["evidence", "figure", "severity", "rule", "uploads", "withdrawn_at", "withdrawn_reason", "updated_at"],
        )
        WarningEvent.objects.bulk_create(events)
    return result


# --- scale risk ------------------------------------------------------------------------------


def scale_alerts_check(*, county: Area, period: datetime.date) -> list[ScaleAlert]:
    """Raise an area alert once per village or town, risk type and period when the warnings
    there pass the county's count or share of households (one query per level)."""
    s = warning_settings_on(county, period)
    raised = []
    warnings = RiskWarning.objects.filter(
        county=county, period=period, household__isnull=False, withdrawn_at__isnull=True
    ).exclude(risk_type=WarningRisk.REGISTRATION)
    for level, field in ((Area.Level.VILLAGE, "village_id"), (Area.Level.TOWN, "town_id")):
        counts = warnings.values(field, "risk_type").annotate(n=Count("household_id", distinct=True))
        sizes = dict(
            Household.objects.filter(village__path__startswith=county.path)
            .values_list("village_id" if level == Area.Level.VILLAGE else "village__parent_id")
            .annotate(n=Count("id"))
            .values_list("village_id" if level == Area.Level.VILLAGE else "village__parent_id", "n")
        )
        for row in counts:
            area_id, n = row[field], row["n"]
            total = sizes.get(area_id, 0)
            by_count = n >= s.scale_count
            by_share = total > 0 and n * 100 >= s.scale_share * total
            if not (by_count or by_share):
                continue
            reason = (
                f"预警 {n} 户，达到 {s.scale_count} 户"
                if by_count
                else f"预警 {n} 户，占 {total} 户的 {s.scale_share} % 以上"
            )
            alert, created = ScaleAlert.objects.get_or_create(
                area_id=area_id,
                risk_type=row["risk_type"],
                period=period,
                defaults={"county": county, "households": n, "total_households": total, "threshold": reason},
            )
            if created:
                raised.append(alert)
            elif alert.households != n:
                ScaleAlert.objects.filter(pk=alert.pk).update(households=n, total_households=total)
    return raised


# --- lifecycle -------------------------------------------------------------------------------


def _roles_over(user: AnyUser, warning: RiskWarning, roles: Iterable[str]) -> bool:
    area = warning.village or warning.town or warning.county
    path = area.path
    return any(
        r.role in roles and r.area is not None and path.startswith(r.area.path)
        for r in household_selectors.user_roles(user)
    )


@transaction.atomic
def warning_dispatch(*, user: AnyUser, warning_id: object) -> RiskWarning:
    """new → dispatched: the town (or county) sends the warning to the village."""
    warning = warning_for_update(user, warning_id)
    if not _roles_over(user, warning, (Role.TOWN_OFFICIAL, Role.COUNTY_OFFICER)):
        raise PermissionDenied("只有乡镇或县级干部可以下发预警。")
    if warning.withdrawn_at is not None:
        raise Conflict("该预警已撤销：部门重新报送的数据中已没有它的依据。")
    if warning.state != WarningState.NEW:
        raise Conflict("该预警已下发或已核实。")
    if warning.village_id is None:
        raise ValidationError({"village": "未登记人员线索没有所属村，请先查明其所在村并登记农户。"})
    warning.state = WarningState.DISPATCHED
    warning.dispatched_at = timezone.now()
    warning.save()
    WarningEvent.objects.create(warning=warning, actor=_actor(user), action="dispatched", label="乡镇下发到村")
    return warning


DECISIONS: dict[str, str] = {WarningState.INCLUDED: "核实纳入", WarningState.EXCLUDED: "核实排除"}


def _actor(user: AnyUser) -> User:
    """Every lifecycle step is taken by a signed-in user (the scope check answered 404 otherwise)."""
    assert isinstance(user, User)
    return user


CASE_RISK = {r.value for r in RiskType}


def _check_verifier(user: AnyUser, warning: RiskWarning) -> str:
    """The verifier's role: the village cadre (after a home check) of a dispatched warning, the
    town official of any open one; for a registration lead (no village) the county officer too."""
    if _roles_over(user, warning, (Role.TOWN_OFFICIAL,)):
        return Role.TOWN_OFFICIAL
    if warning.village_id is not None and _roles_over(user, warning, (Role.VILLAGE_CADRE,)):
        if warning.state == WarningState.NEW:
            raise PermissionDenied("该预警尚未下发到村，请等待乡镇下发。")
        return Role.VILLAGE_CADRE
    if warning.household_id is None and _roles_over(user, warning, (Role.COUNTY_OFFICER,)):
        return Role.COUNTY_OFFICER
    raise PermissionDenied("只有本村的村干部或本乡镇干部可以核实预警。")


@transaction.atomic
def warning_verify(*, user: AnyUser, warning_id: object, decision: str, reason: str = "") -> RiskWarning:
    """Settle the warning: included (opens a case, or attaches to the open one) or excluded
    (reason required). With the county's `town_confirms`, a village cadre's verification is
    recorded as a proposal the town official then confirms."""
    warning = warning_for_update(user, warning_id)
    if decision not in DECISIONS:
        raise ValidationError({"decision": "请选择核实结果：纳入（included）或排除（excluded）。"})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写核实情况或排除理由。"})
    if warning.withdrawn_at is not None:
        raise Conflict("该预警已撤销：部门重新报送的数据中已没有它的依据。")
    if not warning.is_open:
        raise Conflict("该预警已核实，不能重复提交。")
    role = _check_verifier(user, warning)
    settings = warning_settings_on(warning.county, warning.raised_on)
    if role == Role.VILLAGE_CADRE and settings.town_confirms:
        warning.proposed_decision, warning.proposed_reason = decision, reason
        warning.save(update_fields=["proposed_decision", "proposed_reason", "updated_at"])
        WarningEvent.objects.create(
            warning=warning, actor=_actor(user), action="proposed", label=f"村级{DECISIONS[decision]}，待乡镇确认",
            comment=reason, payload={"decision": decision},
        )  # fmt: skip
        return warning
    if decision == WarningState.INCLUDED and warning.household_id is not None:
        warning.case = _include(user, warning, reason)
    # The tier it had when verified: it no longer rises with age.
    warning.verified_tier = tier_now(warning.pk)
    warning.state = decision
    warning.reason = reason
    warning.verified_at = timezone.now()
    warning.verified_by = _actor(user)
    warning.save()
    label = DECISIONS[decision]
    if warning.proposed_decision and role == Role.TOWN_OFFICIAL:
        label = f"乡镇确认{label}"
    WarningEvent.objects.create(
        warning=warning, actor=_actor(user), action=decision, label=label, comment=reason,
        payload={"decision": decision, "case": warning.case_id},
    )  # fmt: skip
    return warning


def _include(user: AnyUser, warning: RiskWarning, reason: str) -> MonitoringCase:
    """Open a case with the warning's facts, or record the warning on the open case."""
    facts = {
        "warning": warning.pk,
        "rule": warning.rule,
        "risk_type": warning.risk_type,
        "period": f"{warning.period:%Y-%m}",
        "figure": warning.figure,
        "evidence": [{k: v for k, v in item.items() if k != "rows"} for item in warning.evidence],
    }
    assert warning.household_id is not None
    open_case = MonitoringCase.objects.filter(household_id=warning.household_id, state__in=OPEN_STATES).first()
    if open_case is not None:
        monitoring_services.case_event_record(
            user=_actor(user),
            case_id=open_case.pk,
            action="warning",
            label=f"预警核实：{warning.get_risk_type_display()}（{warning.period:%Y-%m}）",
            comment=f"{warning.figure}\n核实情况：{reason}",
            payload=facts,
        )
        return open_case
    channel = Channel.PLATFORM_WARNING if warning.department == PLATFORM else Channel.DEPARTMENT_WARNING
    risk = warning.risk_type if warning.risk_type in CASE_RISK else RiskType.OTHER
    return monitoring_services.case_create(
        user=_actor(user),
        household=warning.household_id,
        channel=channel,
        discovered_on=warning.raised_on,
        reason=f"{warning.figure}\n核实情况：{reason}",
        primary_risk=risk,
        risk_note="" if risk != RiskType.OTHER else warning.get_risk_type_display(),
        source="warning",
        payload=facts,
    )
