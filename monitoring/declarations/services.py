"""Actions on self-declarations (农户自主申报, issue 12). Pages, the API and the demo call these.

Each action: scope (404 outside it) → permission → lock the declaration's group → check its
state → change → audit row, in one transaction. A group is a person's first open declaration
and the ones they sent while it was open: linking, starting a case or closing acts on the
whole group, so the same person is never counted, or made a case, twice. A second press of
"start a case" finds the group no longer open and gets a Conflict (409), never a second case.
"""

from __future__ import annotations

import datetime
import secrets
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from households import selectors as household_selectors
from households.models import Area, Household, Role
from households.selectors import AnyUser

from .. import services as case_services
from ..models import OPEN_STATES, CaseEvent, Channel, Declaration, DeclarationEvent, DeclarationPhoto, MonitoringCase
from ..models import RiskType as RiskType
from . import limits
from .selectors import acts_over, declarations_visible_to

Conflict = case_services.Conflict

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
RECORDER_ROLES = (Role.VILLAGE_CADRE, Role.TOWN_OFFICIAL, Role.COUNTY_OFFICER)
CLOSER_ROLES = (Role.VILLAGE_CADRE, Role.TOWN_OFFICIAL)


def new_reference() -> str:
    return "SB" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def _acts_over(user: AnyUser, village: Area, roles: Iterable[str]) -> bool:
    return acts_over(user, village, tuple(roles))


def _actor(user: AnyUser) -> User:
    assert isinstance(user, User), "a signed-in user (the scope check answered 404 otherwise)"
    return user


def _event(
    declaration: Declaration,
    *,
    actor: User | None,
    action: str,
    label: str,
    comment: str = "",
    payload: dict[str, Any] | None = None,
) -> DeclarationEvent:
    return DeclarationEvent.objects.create(
        declaration=declaration, actor=actor, action=action, label=label, comment=comment, payload=payload or {}
    )


# --- receiving a declaration ---------------------------------------------------------------


def _create(
    *,
    village: Area,
    source: str,
    declared_on: datetime.date,
    name: str,
    id_number: str,
    phone: str,
    situation: str,
    risk_types: Sequence[str],
    photos: Iterable[Any],
    recorded_by: User | None,
    client_uuid: uuid.UUID | None = None,
) -> Declaration:
    # The village row is locked so two declarations of one person at once join one group.
    Area.objects.select_for_update().filter(pk=village.pk).first()
    first = (
        Declaration.objects.filter(
            village=village, id_number=id_number, state=Declaration.State.OPEN, duplicate_of__isnull=True
        )
        .order_by("id")
        .first()
    )
    declaration = Declaration(
        village=village,
        source=source,
        declared_on=declared_on,
        name=name,
        id_number=id_number,
        phone=phone,
        situation=situation,
        risk_types=[r for r in dict.fromkeys(risk_types) if r in RiskType.values],
        duplicate_of=first,
        household=first.household if first else None,
        recorded_by=recorded_by,
        client_uuid=client_uuid,
    )
    for _attempt in range(5):
        declaration.reference = new_reference()
        try:
            with transaction.atomic():
                declaration.save()
            break
        except IntegrityError:
            if client_uuid and Declaration.objects.filter(client_uuid=client_uuid).exists():
                raise
            declaration.pk = None
    else:  # pragma: no cover - 32**8 references: five clashes in a row do not happen
        raise IntegrityError("no free declaration reference")
    for photo in photos:
        DeclarationPhoto.objects.create(declaration=declaration, image=photo)
    _event(
        declaration,
        actor=recorded_by,
        action="received",
        label=f"收到申报（{declaration.get_source_display()}）"
        + (f"，同一申报人已有待核实申报 {first.reference}，合并办理" if first else ""),
        comment=situation,
        payload={"source": source, "duplicate_of": first.reference if first else None},
    )
    return declaration


def declaration_submit(
    *,
    client: str,
    village: Area,
    name: str,
    id_number: str,
    phone: str,
    situation: str,
    risk_types: Sequence[str] = (),
    photos: Iterable[Any] = (),
    rate_limited: bool = True,
) -> Declaration:
    """A household declares itself on the public page or API (no login). Refused with
    limits.RateLimited past the limits per client address and per ID number; otherwise kept,
    always (a repeat joins the person's open declaration instead of being dropped).
    `rate_limited=False` is for the demo's own seeding only (a reset seeds the same people
    again the same day); the page and API never pass it."""
    if rate_limited:
        limits.check(limits.PER_IP, client)
        limits.check(limits.PER_ID_NUMBER, id_number)
    if village.level != Area.Level.VILLAGE:
        raise ValidationError({"village": "请选择您所在的村。"})
    with transaction.atomic():
        declaration = _create(
            village=village,
            source=Declaration.Source.ONLINE,
            declared_on=timezone.localdate(),
            name=name,
            id_number=id_number,
            phone=phone,
            situation=situation,
            risk_types=risk_types,
            photos=photos,
            recorded_by=None,
        )
    if rate_limited:
        limits.spend(limits.PER_IP, client)
        limits.spend(limits.PER_ID_NUMBER, id_number)
    return declaration


def declaration_record(
    *,
    user: AnyUser,
    village: Area | int,
    source: str,
    declared_on: datetime.date,
    name: str,
    id_number: str,
    phone: str,
    situation: str,
    risk_types: Sequence[str] = (),
    photos: Iterable[Any] = (),
    client_uuid: uuid.UUID | None = None,
) -> Declaration:
    """A cadre records a declaration received by the 12317 hotline, at the service window or in
    the village WeChat group, with its channel and date. The same client_uuid twice (an offline
    entry synced again) returns the first declaration, marked `repeated`."""
    village = household_selectors.get_or_404(
        household_selectors.areas_visible_to(user, level=Area.Level.VILLAGE), pk=getattr(village, "pk", village)
    )
    if not _acts_over(user, village, RECORDER_ROLES):
        raise PermissionDenied("只有本村、本乡镇或本县的干部可以登记农户申报。")
    if source not in Declaration.Source.values or source == Declaration.Source.ONLINE:
        raise ValidationError({"source": "请选择热线、窗口或微信群。"})
    if declared_on > timezone.localdate():
        raise ValidationError({"declared_on": "申报日期不能晚于今天。"})
    if client_uuid:
        existing = declaration_repeated(user=user, client_uuid=client_uuid)
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return _create(
                village=village,
                source=source,
                declared_on=declared_on,
                name=name,
                id_number=id_number,
                phone=phone,
                situation=situation,
                risk_types=risk_types,
                photos=photos,
                recorded_by=_actor(user),
                client_uuid=client_uuid,
            )
    except IntegrityError:
        # The same offline entry synced twice at once: the other request saved it first.
        existing = declaration_repeated(user=user, client_uuid=client_uuid) if client_uuid else None
        if existing is None:
            raise ValidationError({"client_uuid": "该离线提交标识已被其他记录使用。"}) from None
        return existing


def declaration_repeated(*, user: AnyUser, client_uuid: uuid.UUID) -> Declaration | None:
    """The declaration an earlier sync of this offline entry stored (None if none)."""
    existing = Declaration.objects.filter(client_uuid=client_uuid).first()
    if existing is None:
        return None
    if not declarations_visible_to(user).filter(pk=existing.pk).exists():
        raise ValidationError({"client_uuid": "该离线提交标识已被其他记录使用。"})
    existing.repeated = True  # type: ignore[attr-defined]  # the API answers a repeat with 200
    return existing


# --- the village's queue -------------------------------------------------------------------


def _group_for_update(user: AnyUser, declaration_id: object) -> list[Declaration]:
    """The declaration's group, locked, first declaration first (404 outside the scope)."""
    found = household_selectors.get_or_404(
        declarations_visible_to(user).values("pk", "duplicate_of_id"), pk=declaration_id
    )
    first_id = found["duplicate_of_id"] or found["pk"]
    return list(
        Declaration.objects.select_for_update(of=("self",))
        .filter(Q(pk=first_id) | Q(duplicate_of_id=first_id))
        .select_related("village__parent__parent", "household")
        .order_by("id")
    )


def _check_open(group: list[Declaration]) -> None:
    first = group[0]
    if not first.is_open:
        raise Conflict(f"该申报{first.get_state_display()}，不能重复办理。请刷新页面查看。")


def _check_village_cadre(user: AnyUser, declaration: Declaration) -> None:
    if not _acts_over(user, declaration.village, (Role.VILLAGE_CADRE,)):
        raise PermissionDenied("只有本村的村干部或驻村工作队可以办理该申报。")


@transaction.atomic
def declaration_link(*, user: AnyUser, declaration_id: object, household: Household | int) -> Declaration:
    """Link the declaration (and its group) to a household of its village in the user's scope."""
    group = _group_for_update(user, declaration_id)
    first = group[0]
    _check_village_cadre(user, first)
    _check_open(group)
    found = household_selectors.get_or_404(
        household_selectors.households_visible_to(user).select_related("village"),
        pk=getattr(household, "pk", household),
    )
    if found.village_id != first.village_id:
        raise ValidationError({"household": f"该户不在申报所选的{first.village.name}，请选择本村的农户。"})
    if first.household_id == found.pk:
        return first
    before = first.household.number if first.household else ""
    for row in group:
        row.household = found
        row.handled_by = _actor(user)
        row.save(update_fields=["household", "handled_by", "updated_at"])
    _event(
        first,
        actor=_actor(user),
        action="linked",
        label=f"关联农户 {found.number}" + (f"（原为 {before}）" if before else ""),
        payload={"household": found.pk, "before": before},
    )
    return first


def _case_reason(group: list[Declaration]) -> str:
    first = group[0]
    lines = [f"农户自主申报（{first.get_source_display()}，编号 {first.reference}）：{first.situation}"]
    lines += [f"同一申报人 {d.declared_on} 补充（编号 {d.reference}）：{d.situation}" for d in group[1:]]
    return "\n".join(lines)


def _risks(group: list[Declaration]) -> list[str]:
    return list(dict.fromkeys(r for d in group for r in d.risk_types if r in RiskType.values))


@transaction.atomic
def declaration_start_case(*, user: AnyUser, declaration_id: object) -> MonitoringCase:
    """Start a case from the declaration: channel 农户自主申报, discovery date the declaration's
    date, its situation as the reason, its hardship kinds as the risk types and its photos as
    case evidence. A household with an open case gets the declaration on that case instead."""
    group = _group_for_update(user, declaration_id)
    first = group[0]
    _check_village_cadre(user, first)
    _check_open(group)
    if first.household is None:
        raise Conflict("请先关联农户（或登记该户）再启动监测对象申报。", ["未关联农户"])
    actor = _actor(user)
    facts = {"declaration": first.reference, "declarations": [d.reference for d in group], "source": first.source}
    risks = _risks(group)
    reason = _case_reason(group)
    open_case = MonitoringCase.objects.filter(household=first.household, state__in=OPEN_STATES).first()
    if open_case is not None:
        case_services.case_event_record(
            user=actor,
            case_id=open_case.pk,
            action="declaration",
            label=f"农户自主申报（编号 {first.reference}）",
            comment=reason,
            payload=facts,
        )
        case = open_case
        label = f"该户已有进行中的监测对象记录，申报并入该记录（{case.get_state_display()}）"
    else:
        case = case_services.case_create(
            user=actor,
            household=first.household,
            channel=Channel.SELF_DECLARED,
            discovered_on=min(d.declared_on for d in group),
            reason=reason,
            primary_risk=risks[0] if risks else "",
            secondary_risks=risks[1:],
            risk_note="" if RiskType.OTHER not in risks else "农户申报的其他困难，见申报理由",
            source="declaration",
            payload=facts,
        )
        label = "启动监测对象申报"
    for declaration in group:
        for photo in declaration.photos.all():
            # The same stored file: the photo becomes the case's evidence without a copy.
            CaseEvent.objects.create(
                case=case,
                actor=actor,
                action="declaration_photo",
                label="农户申报照片",
                from_state=case.state,
                to_state=case.state,
                comment=f"申报编号 {declaration.reference}",
                payload={"declaration": declaration.reference, "photo": photo.pk},
                attachment=photo.image.name,
            )
        declaration.state = Declaration.State.CASE_STARTED
        declaration.case = case
        declaration.handled_by = actor
        declaration.save(update_fields=["state", "case", "handled_by", "updated_at"])
    _event(first, actor=actor, action="case_started", label=label, payload={"case": case.pk})
    return case


@transaction.atomic
def declaration_close(*, user: AnyUser, declaration_id: object, reason: str) -> Declaration:
    """Close the declaration (and its group) with a reason the declarer sees on the status page."""
    group = _group_for_update(user, declaration_id)
    first = group[0]
    if not _acts_over(user, first.village, CLOSER_ROLES):
        raise PermissionDenied("只有本村村干部或本乡镇干部可以办结该申报。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写办结原因，申报人查询时会看到。"})
    _check_open(group)
    today = timezone.localdate()
    for row in group:
        row.state = Declaration.State.CLOSED
        row.closed_reason, row.closed_on, row.handled_by = reason, today, _actor(user)
        row.save(update_fields=["state", "closed_reason", "closed_on", "handled_by", "updated_at"])
    _event(first, actor=_actor(user), action="closed", label="办结", comment=reason)
    return first
