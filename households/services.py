"""Writes to the registry. Pages, the API, the importer and the admin all call these, so the
scope check, validation and data-quality checks run the same way on every entry path."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Field, Model

from . import quality, selectors
from .models import Area, Household, IncomeRecord, Member, PersonalDataView, per_capita
from .quality import Finding
from .selectors import AnyUser

HOUSEHOLD_FIELDS = [
    f.name
    for f in Household._meta.get_fields()
    if getattr(f, "editable", False) and f.concrete and not f.primary_key and f.name not in ("updated_at",)
]
MEMBER_FIELDS = [
    f.name
    for f in Member._meta.get_fields()
    if getattr(f, "editable", False) and f.concrete and not f.primary_key and f.name not in ("household", "updated_at")
]
INCOME_PARTS = [
    "wage_income",
    "business_income",
    "business_costs",
    "property_income",
    "transfer_income",
    "policy_transfer_income",
    "medical_expense",
    "education_expense",
]
INCOME_FIELDS = ["year", "month", *INCOME_PARTS, "note"]


def _check_village(user: AnyUser, village: Area | None) -> None:
    if village is None or not selectors.villages_writable_by(user).filter(pk=village.pk).exists():
        raise ValidationError({"village": "您无权在该村登记或修改农户。"})


def _check_can_edit(user: AnyUser, household: Household) -> None:
    if not selectors.can_edit_household(user, household):
        raise PermissionDenied("您的角色只能查看该农户，不能修改。")


def _assign(instance: object, data: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: "不能修改该字段。" for name in sorted(unknown)})
    for name, value in data.items():
        setattr(instance, name, value)


@transaction.atomic
def household_create(*, user: User, members: Iterable[Mapping[str, Any]] = (), **data: Any) -> Household:
    """Register a household, optionally with its members, all or nothing."""
    household = Household()
    _assign(household, data, HOUSEHOLD_FIELDS)
    _check_village(user, household.village if household.village_id else None)
    household.full_clean()
    household.save()
    errors: dict[str, Any] = {}
    for index, member_data in enumerate(members):
        try:
            _member_save(household, Member(), member_data)
        except ValidationError as exc:
            # Keep the field name so callers can show the message next to the right input.
            for field, messages in exc.update_error_dict({}).items():
                errors[f"members[{index}].{field}"] = messages
    if errors:
        raise ValidationError(errors)
    return household


@transaction.atomic
def household_update(*, user: User, household: Household, **data: Any) -> Household:
    _check_can_edit(user, household)
    if "village" in data and data["village"] != household.village:
        _check_village(user, data["village"])
    _assign(household, data, HOUSEHOLD_FIELDS)
    household.full_clean()
    household.save()
    return household


def _member_save(household: Household, member: Member, data: Mapping[str, Any]) -> Member:
    _assign(member, data, MEMBER_FIELDS)
    member.household = household
    member.full_clean()
    member.save()
    return member


@transaction.atomic
def member_create(*, user: User, household: Household, **data: Any) -> Member:
    _check_can_edit(user, household)
    return _member_save(household, Member(), data)


@transaction.atomic
def member_update(*, user: User, member: Member, **data: Any) -> Member:
    _check_can_edit(user, member.household)
    return _member_save(member.household, member, data)


def active_size(household: Household) -> int:
    return household.members.filter(status=Member.Status.ACTIVE).count()


@transaction.atomic
def income_record_save(
    *,
    user: User,
    household: Household,
    record: IncomeRecord | None = None,
    declared_total: Decimal | str | int | None = None,
    **data: Any,
) -> IncomeRecord:
    """Create or correct a year's (or month's) income.

    The total net income and per-capita net income are always computed here from the parts
    and the number of members living in the household (DOMAIN.md §2, §8); a total sent by the
    client must equal the sum of its parts.
    """
    _check_can_edit(user, household)
    record = record or IncomeRecord(household=household)
    _assign(record, data, INCOME_FIELDS)
    for name in INCOME_PARTS:
        if getattr(record, name) is None:
            setattr(record, name, Decimal("0"))
    # full_clean below skips constraints (the period check has its own message), so the
    # database's income_parts_not_negative would otherwise surface as a server error.
    negative = {
        name: f"{_verbose_name(IncomeRecord, name)}不能为负数。" for name in INCOME_PARTS if getattr(record, name) < 0
    }
    if negative:
        raise ValidationError(negative)
    record.total_net_income = record.computed_total()
    if declared_total is not None and Decimal(declared_total) != record.total_net_income:
        raise ValidationError(
            {
                "total_net_income": f"家庭纯收入 {declared_total} 元与各项之和 {record.total_net_income} 元"
                f"（工资性 + 生产经营性收入 − 生产经营性支出 + 财产性 + 转移性）不一致。"
            }
        )
    if record.policy_transfer_income > record.transfer_income:
        raise ValidationError({"policy_transfer_income": "政策性转移收入是转移性收入的一部分，不能大于转移性收入。"})
    record.household_size = active_size(household)
    if record.household_size == 0:
        raise ValidationError("该户没有在户成员，无法计算人均纯收入。请先登记家庭成员。")
    record.per_capita_net_income = per_capita(record.total_net_income, record.household_size)
    record.full_clean(validate_constraints=False)
    _validate_period_free(record)
    record.save()
    return record


def _verbose_name(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    return str(field.verbose_name) if isinstance(field, Field) else name


def _validate_period_free(record: IncomeRecord) -> None:
    clash = IncomeRecord.objects.filter(household=record.household, year=record.year, month=record.month)
    if record.pk:
        clash = clash.exclude(pk=record.pk)
    if clash.exists():
        raise ValidationError({"year": f"该户{record.period_label}的收入记录已存在，请修改原记录。"})


def income_record_initial(household: Household, year: int) -> dict[str, Any]:
    """A new year's record starts from last year's figures: only the changes need typing."""
    last = selectors.latest_annual_income(household, before_year=year)
    initial: dict[str, Any] = {"year": year}
    if last:
        initial.update({name: getattr(last, name) for name in INCOME_PARTS})
    return initial


def findings_after_entry(household: Household) -> list[Finding]:
    """The data-quality findings shown to whoever just entered data for this household."""
    household = quality.prefetch_for_checks(Household.objects.filter(pk=household.pk)).get()
    return quality.household_findings(household)


def personal_data_viewed(*, user: User, household: Household, channel: str) -> None:
    """Record that a user was shown full ID numbers or phones of a household (DOMAIN.md §9:
    every full view is logged): the detail page and API, and the edit forms that show them."""
    PersonalDataView.objects.create(user=user, household=household, channel=channel)
