"""Workflow actions on monitoring cases. Pages, the API, the admin and tasks call these.

Every action: scope check (404 outside it) → lock the case row (`select_for_update`) →
check the state, the role and the step's data → transition → save → audit row, all inside
one transaction. Two people pressing "approve" at once: the second waits for the first's
lock, then finds the case already moved on and gets a `Conflict`; nothing is done twice.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Model, Q, QuerySet
from django.utils import timezone
from django_fsm import ConcurrentTransition, FSMFieldMixin, FSMMeta, Transition, get_all_FIELD_transitions

from households import selectors as household_selectors
from households.models import Household, Role
from households.selectors import AnyUser

from . import permissions
from .conditions import Condition, category_problem
from .forms import STEP_FORMS, StepForm
from .models import (
    ELIMINATION_STATES,
    OPEN_STATES,
    CaseEvent,
    Channel,
    CountySettings,
    MonitoringCase,
    Objection,
    State,
    Visit,
    VisitPhoto,
)
from .selectors import case_for_update, cases_visible_to, contact_candidates, county_settings_on, household_version_of


class Conflict(Exception):
    """The action is not possible in the case's current state (HTTP 409)."""

    def __init__(self, message: str, reasons: Iterable[str] = (), conditions: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reasons = list(reasons)
        # The unmet conditions by name (monitoring.conditions), so a page can put each reason
        # beside the field that satisfies it.
        self.conditions = dict(conditions or {})


@dataclass
class Action:
    name: str
    label: str
    enabled: bool
    reasons: list[str] = field(default_factory=list)


def _transition_meta(case: MonitoringCase | type[MonitoringCase], name: str) -> FSMMeta:
    model = case if isinstance(case, type) else type(case)
    method = getattr(model, name, None)
    meta: FSMMeta | None = getattr(method, "_django_fsm", None)
    if meta is None:
        raise ValidationError({"transition": f"没有名为 {name} 的操作。"})
    return meta


def transition_label(name: str) -> str:
    meta = _transition_meta(MonitoringCase, name)
    return str(next(iter(meta.transitions.values())).custom.get("label", name))


def _unmet(case: MonitoringCase, name: str) -> dict[str, str]:
    """The transition's unmet conditions: name → reason, in the order they are declared."""
    meta = _transition_meta(case, name)
    found = meta.get_transition(case.state)
    if found is None:
        return {}
    return {getattr(c, "__name__", str(c)): _explain(c, case) for c in found.conditions if not c(case)}


def actions_for(case: MonitoringCase, user: AnyUser) -> list[Action]:
    """The actions this user may take on the case now, each enabled or with the reasons it is
    not yet possible (so the page can say "公示期未满" instead of hiding the button)."""
    actions: list[Action] = []
    for t in _state_transitions(case):
        if t.custom.get("internal") or t.source not in (case.state, "*"):
            continue
        if not t.has_perm(case, user):
            continue
        # Conditions the step's form satisfies (on_submit) are checked when it is submitted.
        reasons = [_explain(c, case) for c in t.conditions if not getattr(c, "on_submit", False) and not c(case)]
        actions.append(Action(t.name, t.custom.get("label", t.name), not reasons, reasons))
    return actions


def _state_transitions(case: MonitoringCase) -> Iterator[Transition]:
    """case.get_all_state_transitions(), which FSMField adds to the model at run time."""
    field = MonitoringCase._meta.get_field("state")
    assert isinstance(field, FSMFieldMixin)
    return get_all_FIELD_transitions(case, field)


def _explain(condition: Callable[[Model], bool], case: MonitoringCase) -> str:
    if isinstance(condition, Condition):
        return condition.explain(case)
    return getattr(condition, "__name__", str(condition))


def available_transitions(case: MonitoringCase, user: AnyUser) -> list[str]:
    return [a.name for a in actions_for(case, user) if a.enabled]


# The event objection_record writes with every objection (the case page reads objections only
# for a case whose timeline has one).
OBJECTION_RECORDED = "objection_recorded"


def _audit(
    case: MonitoringCase,
    *,
    actor: User,
    action: str,
    label: str,
    from_state: str,
    to_state: str,
    comment: str = "",
    payload: dict[str, Any] | None = None,
    attachment: Any = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        actor=actor,
        action=action,
        label=label,
        from_state=from_state,
        to_state=to_state,
        comment=comment or "",
        payload=payload or {},
        attachment=attachment or "",
    )


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("comment", "attachment") or hasattr(value, "read"):
            continue
        if isinstance(value, (list, tuple, QuerySet)):
            out[key] = [str(v) for v in value]
        elif value is None or isinstance(value, (bool, int, str)):
            out[key] = value
        else:
            out[key] = str(value)
    return out


def case_transition(
    *,
    user: User,
    case_id: object,
    name: str,
    data: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
) -> MonitoringCase:
    """Take workflow step `name` on a case with the step's data (see forms.STEP_FORMS).

    Raises Http404 (out of scope), Conflict (wrong state, a condition unmet, a lost race),
    PermissionDenied (the role may not act at this step) or ValidationError (step data).
    """
    form_class = STEP_FORMS.get(name)
    if form_class is None or name == "return_for_recheck":
        raise ValidationError({"transition": f"没有名为 {name} 的操作。"})
    try:
        with transaction.atomic():
            case = case_for_update(user, case_id)
            return _take(case, user, name, form_class, data or {}, files)
    except ConcurrentTransition:
        raise Conflict("该记录刚被其他人处理，请刷新后查看最新状态。") from None


def _take(
    case: MonitoringCase,
    user: User,
    name: str,
    form_class: type[StepForm],
    data: Mapping[str, Any],
    files: Mapping[str, Any] | None,
    *,
    internal: bool = False,
) -> MonitoringCase:
    meta = _transition_meta(case, name)
    state_label = case.get_state_display()
    if not meta.has_transition(case.state):
        raise Conflict(f"当前状态为“{state_label}”，不能执行“{transition_label(name)}”。可能已被他人处理，请刷新页面。")
    if not meta.has_transition_perm(case, case.state, user):
        raise PermissionDenied(f"您的角色不能在“{state_label}”阶段执行“{transition_label(name)}”。")
    form = form_class(data, files, case=case)
    if not form.is_valid():
        raise ValidationError({k: [e["message"] for e in v] for k, v in form.errors.get_json_data().items()})
    for key, value in form.case_facts().items():
        setattr(case, key, value)
    # The checklist is judged for the step's own date (an elimination appraisal held on a day
    # when the case had been monitored six months), the facts as they stand now.
    case.step_on = form.step_date()
    kwargs = form.transition_kwargs()
    case.check_step_dates(name, kwargs)
    unmet = _unmet(case, name)
    if unmet:
        reasons = list(unmet.values())
        message = f"暂不能执行“{transition_label(name)}”：" + " ".join(reasons)
        if case.state in ELIMINATION_STATES:
            message += " 可选择“退回继续监测”（elimination_return）。"
        raise Conflict(message, reasons, unmet)
    from_state = case.state
    getattr(case, name)(**kwargs)
    case.save()
    form.save_relations(case)
    label = transition_label(name)
    if name == "publish_notice" and case.state == State.REJECTED:
        label = "民主评议不同意纳入，不予纳入"
    _audit(
        case,
        actor=user,
        action=name,
        label=label,
        from_state=from_state,
        to_state=case.state,
        comment=form.cleaned_data.get("comment", ""),
        payload=_jsonable(form.cleaned_data),
        attachment=form.cleaned_data.get("attachment"),
    )
    return case


# --- county settings -----------------------------------------------------------------------


def county_settings_check(effective_from: datetime.date | None) -> None:
    """A settings version applies from its date on: never from a day already past, so a change
    cannot rewrite the rules a case ran under (issue 7 point 10)."""
    if effective_from is not None and effective_from < timezone.localdate():
        raise ValidationError({"effective_from": "生效日期不能早于今天：设置变更只对生效日期之后适用。"})


@transaction.atomic
def county_settings_save(*, user: Any, settings: CountySettings) -> CountySettings:
    """Save a new settings version (or correct one not yet in force): administrators, staff the
    administrator gave the admin permission to, and county officers of that county only."""
    if not _may_set_county(user, settings):
        raise PermissionDenied("只有本县的县乡村振兴局人员或系统管理员可以修改县级设置。")
    if settings.pk is not None:
        stored = CountySettings.objects.select_for_update().get(pk=settings.pk)
        if stored.effective_from <= timezone.localdate():
            raise Conflict("该版本设置已生效，不能修改；请新增一版设置并填写生效日期。")
    county_settings_check(settings.effective_from)
    settings.full_clean()
    if settings.created_by_id is None:
        settings.created_by = user
    settings.save()
    return settings


def _may_set_county(user: Any, settings: CountySettings) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if household_selectors.is_admin(user):
        return True
    if user.has_perm("monitoring.change_countysettings" if settings.pk else "monitoring.add_countysettings"):
        return True
    return any(
        r.role == Role.COUNTY_OFFICER and r.area_id == settings.county_id for r in household_selectors.user_roles(user)
    )


# --- creating a case ---------------------------------------------------------------------


# A warning verified as included opens a case: the village cadre after a home check, or the
# town official, verifies it (DOMAIN.md §6).
WARNING_CHANNELS = (Channel.DEPARTMENT_WARNING, Channel.PLATFORM_WARNING)


def withdrawn_case_to_resume(household: Household, today: datetime.date | None = None) -> MonitoringCase | None:
    """The household's case withdrawn within the county's re-report window (setting
    `re_report_window_days`, default 90, as in force on the withdrawal day), if any: a new report
    links to it and keeps its discovery date."""
    today = today or timezone.localdate()
    previous = (
        MonitoringCase.objects.filter(household=household, state=State.WITHDRAWN, ended_on__isnull=False)
        .order_by("-ended_on", "-id")
        .first()
    )
    if previous is None or previous.ended_on is None:
        return None
    window = county_settings_on(household.village.county, previous.ended_on).re_report_window_days
    return previous if (today - previous.ended_on).days <= window else None


def _last_visit_on(household: Household) -> datetime.date | None:
    """The household's last visit, which a new case starts with (MonitoringCase.last_visit_on)."""
    last: datetime.date | None = Visit.objects.filter(household=household).aggregate(last=Max("visited_on"))["last"]
    return last


def households_moved(*, household_ids: Iterable[int]) -> int:
    """The cases of these households follow them to their village now (MonitoringCase.village:
    a case is seen exactly where its household is). Called by the registry after it changed a
    household's village (FANPIN_HOUSEHOLDS_MOVED); one UPDATE, the cases already right untouched."""
    ids = list(household_ids)
    if not ids:
        return 0
    moved = 0
    for village_id, in_village in _by_village(ids).items():
        moved += (
            MonitoringCase.objects.filter(household_id__in=in_village)
            .exclude(village_id=village_id)
            .update(village_id=village_id)
        )
    return moved


def _by_village(household_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for pk, village_id in Household.objects.filter(pk__in=household_ids).values_list("pk", "village_id"):
        out.setdefault(village_id, []).append(pk)
    return out


def _check_reporter(user: User, household: Household, channel: str = "") -> None:
    # The administrator sees everything but takes no part in the workflow (separation of duties).
    path = household.village.path
    roles = (Role.VILLAGE_CADRE, Role.TOWN_OFFICIAL) if channel in WARNING_CHANNELS else (Role.VILLAGE_CADRE,)
    if not any(
        r.role in roles and r.area is not None and path.startswith(r.area.path)
        for r in household_selectors.user_roles(user)
    ):
        raise PermissionDenied("只有本村的村干部或驻村工作队可以申报监测对象。")


CREATE_LABELS = {
    "report": "申报监测对象",
    "visit": "走访发现风险，申报监测对象",
    "warning": "预警核实纳入，申报监测对象",
    "declaration": "农户自主申报，申报监测对象",
}


@transaction.atomic
def case_create(
    *,
    user: User,
    household: Household | int,
    channel: str,
    discovered_on: datetime.date,
    reason: str,
    category: str = "",
    primary_risk: str = "",
    secondary_risks: Iterable[str] = (),
    risk_note: str = "",
    contact_person: User | None = None,
    source: str = "report",
    payload: Mapping[str, Any] | None = None,
    home_check: Mapping[str, Any] | None = None,
) -> MonitoringCase:
    """Report a household for monitoring (申报). One open case per household (DOMAIN.md §3)."""
    household = household_selectors.get_or_404(
        household_selectors.households_visible_to(user).select_related("village"),
        pk=getattr(household, "pk", household),
    )
    _check_reporter(user, household, channel)
    if discovered_on > timezone.localdate():
        raise ValidationError({"discovered_on": "发现日期不能晚于今天。"})
    # Lock the household row so two reports of the same household cannot both pass the check.
    Household.objects.select_for_update().filter(pk=household.pk).first()
    if MonitoringCase.objects.filter(household=household, state__in=OPEN_STATES).exists():
        raise ValidationError({"household": "该户已有进行中的监测对象记录，不能重复申报。"})
    if contact_person is not None and not contact_candidates(household.village).filter(pk=contact_person.pk).exists():
        raise ValidationError(
            {"contact_person": "帮扶联系人须是本村、本乡镇或本县的干部，或未绑定其他地区的帮扶人员。"}
        )
    previous = withdrawn_case_to_resume(household)
    reported_discovery = discovered_on
    if previous is not None:
        # Withdrawing an overdue case and reporting it again must not reset its deadline
        # (issue 7 point 9): the new report links to it and keeps its discovery date.
        discovered_on = min(previous.discovered_on, discovered_on)
        payload = {**(payload or {}), "previous_case": previous.pk, "reported_discovered_on": str(reported_discovery)}
    case = MonitoringCase(
        household=household,
        village_id=household.village_id,
        last_visit_on=_last_visit_on(household),
        previous_case=previous,
        channel=channel,
        discovered_on=discovered_on,
        reason=reason,
        category=category or "",
        primary_risk=primary_risk or "",
        secondary_risks=[r for r in secondary_risks if r != primary_risk],
        risk_note=risk_note or "",
        contact_person=contact_person,
        reported_by=user,
        **(home_check or {}),
    )
    case.full_clean(exclude=["state"], validate_constraints=False)
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        raise ValidationError({"household": "该户已有进行中的监测对象记录，不能重复申报。"}) from None
    _audit(
        case,
        actor=user,
        action=source,
        label=CREATE_LABELS.get(source, "申报监测对象")
        + (f"（撤回后重新申报，沿用原发现日期 {discovered_on}）" if previous is not None else ""),
        from_state="",
        to_state=State.REPORTED,
        comment=reason,
        payload={"channel": channel, "discovered_on": str(discovered_on), **(payload or {})},
    )
    return case


@transaction.atomic
def case_event_record(
    *, user: User, case_id: object, action: str, label: str, comment: str = "", payload: Mapping[str, Any] | None = None
) -> CaseEvent:
    """Record a fact on an open case's timeline without a transition (e.g. a verified warning
    attached to the household's open case). 404 outside the user's scope; 409 on an ended case."""
    case = case_for_update(user, case_id)
    if case.state not in OPEN_STATES:
        raise Conflict("该监测对象记录已结束，不能再添加记录。")
    return _audit(
        case,
        actor=user,
        action=action,
        label=label,
        from_state=case.state,
        to_state=case.state,
        comment=comment,
        payload=dict(payload or {}),
    )


# --- historical cases ------------------------------------------------------------------------


def _check_county_officer(user: Any, household: Household) -> None:
    path = household.village.path
    if not any(
        r.role == Role.COUNTY_OFFICER and r.area is not None and path.startswith(r.area.path)
        for r in household_selectors.user_roles(user)
    ):
        raise PermissionDenied("只有本县的县乡村振兴局人员可以补录历史监测对象。")


@transaction.atomic
def case_import_historical(
    *,
    user: Any,
    household: Any,
    channel: str,
    discovered_on: datetime.date,
    reason: str,
    category: str,
    primary_risk: str,
    determined_on: datetime.date,
    document_number: str,
    secondary_risks: Any = (),
    risk_note: str = "",
    contact_person: Any = None,
    comment: str = "",
) -> MonitoringCase:
    """Bring in a case determined before the county used fanpin (years of existing cases), at
    监测帮扶中, by a county officer with the original determination's document number: the one
    explicit, audited path for historical cases (issue 7 point 2), never the ordinary steps
    back-dated. The elimination wait then counts from the original determination date. The
    category must still fit the registry's household type (point 8)."""
    household = household_selectors.get_or_404(
        household_selectors.households_visible_to(user).select_related("village"),
        pk=getattr(household, "pk", household),
    )
    _check_county_officer(user, household)
    Household.objects.select_for_update().filter(pk=household.pk).first()
    if MonitoringCase.objects.filter(household=household, state__in=OPEN_STATES).exists():
        raise ValidationError({"household": "该户已有进行中的监测对象记录，不能重复补录。"})
    errors = {}
    today = timezone.localdate()
    if not (document_number or "").strip():
        errors["document_number"] = "请填写原认定文号。"
    if determined_on >= today:
        errors["determined_on"] = "历史监测对象的认定日期应早于今天；今天认定的请走正常认定流程。"
    if discovered_on > determined_on:
        errors["discovered_on"] = "发现日期不能晚于认定日期。"
    problem = category_problem(household, category, income=False)
    if problem:
        errors["category"] = problem
    if contact_person is not None and not contact_candidates(household.village).filter(pk=contact_person.pk).exists():
        errors["contact_person"] = "帮扶联系人须是本村、本乡镇或本县的干部，或未绑定其他地区的帮扶人员。"
    if errors:
        raise ValidationError(errors)
    # The one place a case starts past 已申报: set at construction, never assigned afterwards.
    case = MonitoringCase(
        household=household,
        village_id=household.village_id,
        last_visit_on=_last_visit_on(household),
        state=State.MONITORED,
        historical=True,
        channel=channel,
        discovered_on=discovered_on,
        reason=reason,
        category=category,
        primary_risk=primary_risk,
        secondary_risks=[r for r in secondary_risks if r != primary_risk],
        risk_note=risk_note or "",
        contact_person=contact_person,
        reported_by=user,
        determined_on=determined_on,
        determination_recorded_on=determined_on,
        document_number=document_number.strip(),
    )
    case.full_clean(exclude=["state"], validate_constraints=False)
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        raise ValidationError({"household": "该户已有进行中的监测对象记录，不能重复补录。"}) from None
    _audit(
        case,
        actor=user,
        action="import_historical",
        label="补录历史监测对象",
        from_state="",
        to_state=State.MONITORED,
        comment=comment or reason,
        payload={
            "channel": channel,
            "discovered_on": str(discovered_on),
            "determined_on": str(determined_on),
            "document_number": case.document_number,
            "category": category,
            "primary_risk": primary_risk,
        },
    )
    return case


# --- objections ----------------------------------------------------------------------------


@transaction.atomic
def objection_record(
    *, user: User, case_id: object, raised_by: str, raised_on: datetime.date, content: str
) -> Objection:
    """Record an objection (异议) raised during a public notice, by the village or the town.
    While it is open the notice cannot be closed (DOMAIN.md §3)."""
    case = case_for_update(user, case_id)
    if case.state not in (State.PUBLIC_NOTICE, State.ELIMINATION_NOTICE):
        raise Conflict(f"只有在公示期间才能登记异议，当前状态为“{case.get_state_display()}”。")
    if not (permissions.village_cadre(case, user) or permissions.town_official(case, user)):
        raise PermissionDenied("只有本村村干部或乡镇干部可以登记异议。")
    objection = Objection(
        case=case, notice=case.state, raised_by=raised_by, raised_on=raised_on, content=content, recorded_by=user
    )
    objection.full_clean()
    if objection.raised_on > timezone.localdate():
        raise ValidationError({"raised_on": "提出日期不能晚于今天。"})
    objection.save()
    _audit(
        case,
        actor=user,
        action=OBJECTION_RECORDED,
        label="登记异议",
        from_state=case.state,
        to_state=case.state,
        comment=content,
        payload={"objection": objection.pk, "raised_by": raised_by},
    )
    return objection


@transaction.atomic
def objection_resolve(*, user: User, objection_id: object, upheld: bool, resolution: str) -> Objection:
    """Record the outcome of checking an objection. Upheld: the case goes back for re-check
    (identification: to the village appraisal; elimination: back to monitoring)."""
    objection = household_selectors.get_or_404(
        Objection.objects.filter(case__in=cases_visible_to(user)), pk=objection_id
    )
    case = case_for_update(user, objection.case_id)
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    if objection.status != Objection.Status.OPEN:
        raise Conflict("该异议已处理，请刷新页面。")
    if not (permissions.village_cadre(case, user) or permissions.town_official(case, user)):
        raise PermissionDenied("只有本村村干部或乡镇干部可以处理异议。")
    if not resolution:
        raise ValidationError({"resolution": "请填写核实情况。"})
    objection.status = Objection.Status.UPHELD if upheld else Objection.Status.DISMISSED
    objection.resolution, objection.resolved_by, objection.resolved_at = resolution, user, timezone.now()
    objection.save()
    _audit(
        case,
        actor=user,
        action="objection_resolved",
        label=f"异议处理：{objection.get_status_display()}",
        from_state=case.state,
        to_state=case.state,
        comment=resolution,
        payload={"objection": objection.pk, "upheld": bool(upheld)},
    )
    if upheld and case.state == objection.notice:
        name = "return_for_recheck" if case.state == State.PUBLIC_NOTICE else "elimination_return"
        from_state = case.state
        getattr(case, name)()
        case.save()
        _audit(
            case,
            actor=user,
            action=name,
            label=transition_label(name),
            from_state=from_state,
            to_state=case.state,
            comment=f"异议成立：{resolution}",
            payload={"objection": objection.pk},
        )
    return objection


# --- visits ----------------------------------------------------------------------------------


def check_visitor(user: User, household: Household, cases: Iterable[MonitoringCase] | None = None) -> None:
    """PermissionDenied unless the user may record a visit of the household. `cases`: all of
    the household's cases, when the caller has them already (the household page), read
    instead of asking the database whether the user is the contact person of an open one."""
    path = household.village.path
    allowed = any(
        r.role in (Role.VILLAGE_CADRE, Role.TOWN_OFFICIAL) and r.area is not None and path.startswith(r.area.path)
        for r in household_selectors.user_roles(user)
    )
    if allowed:
        return
    if cases is not None:
        helper = any(c.state in OPEN_STATES and c.contact_person_id == user.pk for c in cases)
    else:
        helper = household.cases.filter(state__in=OPEN_STATES, contact_person=user).exists()
    if not helper:
        raise PermissionDenied("只有本村村干部、驻村工作队、乡镇干部或帮扶联系人可以录入走访记录。")


class HouseholdChanged(Conflict):
    """A visit (typically saved offline) would overwrite a 两不愁三保障 item that someone else
    changed on the server after the visit form was loaded: the cadre decides (HTTP 409)."""

    def __init__(self, conflicts: list[dict[str, Any]], version: str) -> None:
        items = "；".join(
            f"{c['label']}：现在为“{_yes_no(c['server'])}”，本次走访为“{_yes_no(c['yours'])}”" for c in conflicts
        )
        super().__init__(f"打开走访表后，该户的情况已被他人修改（{items}）。请确认以哪一方为准。", [items])
        self.conflicts = conflicts
        self.version = version


def _yes_no(secure: bool) -> str:
    return "有保障" if secure else "有问题"


def _household_conflicts(household: Household, version: str, visit: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Items someone else changed since `version` and the visit would set otherwise."""
    if not version or version == household_version_of(household):
        return []
    base = version.rpartition("-")[2]
    if len(base) != len(Household.SECURITY_ITEMS) or set(base) - {"0", "1"}:
        raise ValidationError({"household_version": "走访表的版本标识无效，请重新打开走访表。"})
    conflicts = []
    for (key, _), loaded in zip(Household.SECURITY_ITEMS, base, strict=True):
        name = f"{key}_secure"
        server = bool(getattr(household, name))
        if name in visit and server != (loaded == "1") and bool(visit[name]) != server:
            field_label = str(Household._meta.get_field(name).verbose_name)  # type: ignore[union-attr]  # a concrete field
            conflicts.append({"field": name, "label": field_label, "server": server, "yours": bool(visit[name])})
    return conflicts


@transaction.atomic
def visit_create(
    *,
    user: User,
    household: Household | int,
    photos: Iterable[Any] = (),
    open_case: bool = False,
    household_version: str = "",
    **data: Any,
) -> Visit:
    """Record a home visit. The household's 两不愁三保障 status becomes what the visit found,
    the visit attaches to the household's open case, and it may open a new case carrying its
    findings over. A repeated submission (same client_uuid, e.g. an offline form synced
    twice) returns the first visit instead of a duplicate."""
    # In scope: the user's area, or a household whose open case they are the contact person for.
    reachable = Household.objects.filter(
        Q(pk__in=household_selectors.households_visible_to(user).values("pk"))
        | Q(pk__in=cases_visible_to(user).filter(state__in=OPEN_STATES).values("household"))
    )
    # The household row is locked: two visits synced at once compare with the same state.
    household = household_selectors.get_or_404(
        reachable.select_related("village").select_for_update(of=("self",)), pk=getattr(household, "pk", household)
    )
    check_visitor(user, household)
    if data.get("client_uuid"):
        existing = Visit.objects.filter(client_uuid=data["client_uuid"], household=household).first()
        if existing:
            existing.repeated = True  # type: ignore[attr-defined]  # the API answers a repeat with 200, not 201
            return existing
    # Never overwrite silently what someone else changed after the form was loaded.
    conflicts = _household_conflicts(household, household_version, data)
    if conflicts:
        raise HouseholdChanged(conflicts, household_version_of(household))
    if open_case and not (data.get("new_risks") or data.get("findings")):
        raise ValidationError({"new_risks": "申报监测对象时请勾选发现的风险或填写走访情况。"})
    visit = Visit(household=household, recorded_by=user, **data)
    visit.case = household.cases.filter(state__in=OPEN_STATES).first()
    visit.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        # The same offline form synced twice at once: the other request saved it first.
        existing = Visit.objects.filter(client_uuid=visit.client_uuid, household=household).first()
        if existing is None:
            raise ValidationError({"client_uuid": "该离线提交标识已被其他农户的走访记录使用。"}) from None
        existing.repeated = True  # type: ignore[attr-defined]
        return existing
    for photo in photos:
        VisitPhoto.objects.create(visit=visit, image=photo)
    # The household's cases read their last visit from the row (the overdue-visit panel); a
    # visit entered late, older than the last one, changes nothing.
    MonitoringCase.objects.filter(household=household).filter(
        Q(last_visit_on__isnull=True) | Q(last_visit_on__lt=visit.visited_on)
    ).update(last_visit_on=visit.visited_on)
    changed: list[str] = []
    for key, _ in Household.SECURITY_ITEMS:
        if getattr(household, f"{key}_secure") != getattr(visit, f"{key}_secure"):
            setattr(household, f"{key}_secure", getattr(visit, f"{key}_secure"))
            changed.append(f"{key}_secure")
    if changed:
        household.save(update_fields=[*changed, "updated_at"])
    if visit.case:
        _audit(
            visit.case,
            actor=user,
            action="visit",
            label="走访",
            from_state=visit.case.state,
            to_state=visit.case.state,
            comment=visit.findings,
            payload={"visit": visit.pk},
        )
    elif open_case:
        case_create_from_visit(user=user, visit=visit)
    return visit


def visit_report_facts(visit: Visit) -> dict[str, Any]:
    """What a report made from a visit starts from (据此申报): the visit's day as the discovery,
    its findings as the reason, the risks it found (DOMAIN.md §8: each fact entered once)."""
    risks = list(visit.new_risks)
    return {
        "channel": "cadre_visit",
        "discovered_on": visit.visited_on,
        "reason": visit.findings or "走访发现风险：" + "、".join(visit.new_risk_labels()),
        "primary_risk": risks[0] if risks else "",
        "secondary_risks": risks[1:],
    }


def visit_to_report(household: Household) -> Visit | None:
    """The household's latest visit that found something (findings or new risks) and is in no
    case: a report opened from the household page (申报监测对象) starts from it, as 据此申报 does."""
    return (
        Visit.objects.filter(household=household, case__isnull=True)
        .exclude(findings="", new_risks=[])
        .order_by("-visited_on", "-id")
        .first()
    )


@transaction.atomic
def case_create_from_visit(*, user: User, visit: Visit, **report: Any) -> MonitoringCase:
    """Report the household of a visit that found a risk, carrying the visit: it becomes the
    case's first visit and its home check (入户核实; the start_appraisal form starts from it and may
    still correct it). `report` overrides the facts taken from the visit (the report form)."""
    # In scope (404 otherwise); the caller's instance is the one updated, so it shows its case.
    household_selectors.get_or_404(
        Visit.objects.filter(household__in=household_selectors.households_visible_to(user)), pk=visit.pk
    )
    if visit.case_id is not None:
        raise ValidationError({"visit": "这次走访已记入一个监测对象，不能再据此申报。"})
    case = case_create(
        user=user,
        household=visit.household,
        **{**visit_report_facts(visit), **report},
        source="visit",
        payload={"visit": visit.pk},
        home_check={
            "home_check_on": visit.visited_on,
            "home_checkers": visit.visitors,
            "home_check_note": visit.findings,
        },
    )
    visit.case = case
    visit.save(update_fields=["case"])
    return case


# --- the contact person -------------------------------------------------------------------


@transaction.atomic
def case_contact_person_set(*, user: Any, case_id: Any, contact_person: Any) -> MonitoringCase:
    """Assign the case's contact person (帮扶联系人), by a cadre of its village, town or county,
    from the pool `contact_candidates` allows (DOMAIN.md §1: the role is scoped to the cases
    assigned to them). Audited with before and after."""
    case = case_for_update(user, case_id)
    if not case.is_open:
        raise Conflict(f"当前状态为“{case.get_state_display()}”，不能再更换帮扶联系人。")
    if not (
        permissions.village_cadre(case, user)
        or permissions.town_official(case, user)
        or permissions.county_officer(case, user)
    ):
        raise PermissionDenied("只有本村、本乡镇或本县的干部可以指定帮扶联系人。")
    if (
        contact_person is not None
        and not contact_candidates(case.household.village).filter(pk=contact_person.pk).exists()
    ):
        raise ValidationError(
            {"contact_person": "帮扶联系人须是本村、本乡镇或本县的干部，或未绑定其他地区的帮扶人员。"}
        )
    before = case.contact_person
    if getattr(before, "pk", None) == getattr(contact_person, "pk", None):
        return case
    case.contact_person = contact_person
    case.save(update_fields=["contact_person", "updated_at"])

    def name(person: Any) -> str:
        return (person.get_full_name() or person.username) if person else "（未指定）"

    _audit(
        case,
        actor=user,
        action="contact_person_set",
        label="指定帮扶联系人",
        from_state=case.state,
        to_state=case.state,
        comment=f"{name(before)} → {name(contact_person)}",
        payload={"before": getattr(before, "pk", None), "after": getattr(contact_person, "pk", None)},
    )
    return case
