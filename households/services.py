"""Writes to the registry. Pages, the API, the importer and the admin all call these, so the
scope check, validation and data-quality checks run the same way on every entry path."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Field, Model
from django.http import Http404
from django.utils.module_loading import import_string

from . import idnumber, quality, selectors
from .models import Area, Household, IncomeRecord, Member, PersonalDataView, RegistryClash, per_capita
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


VILLAGE_NOT_WRITABLE = "该村不存在，或您无权在该村登记或修改农户。"
# A number registered in a household the user may not see: the answer names no household,
# village or person, so it does not tell whether or where the number is registered.
CLASH_MESSAGES = {
    RegistryClash.Field.ID_NUMBER: "该身份证号不能在此登记。请核对号码；如号码无误，请联系县乡村振兴局核实处理。",
    RegistryClash.Field.NUMBER: "该户编号不能使用，请核对或换一个户编号；如有疑问请联系县乡村振兴局。",
}
# (field, value, household holding it, village the entry was for)
Clash = tuple[str, str, Household, Area | None]


class RegistryClashError(ValidationError):
    """A ValidationError that also carries the clashes to record once the write has rolled back."""

    def __init__(self, errors: Any, clashes: Iterable[Clash]) -> None:
        super().__init__(errors)
        self.clashes = list(clashes)


def _check_village(user: AnyUser, village: Area | None) -> None:
    if village is None or not selectors.villages_writable_by(user).filter(pk=village.pk).exists():
        raise ValidationError({"village": VILLAGE_NOT_WRITABLE})


def _hidden_holder(user: AnyUser, field: str, value: str, *, exclude_pk: int | None = None) -> Household | None:
    """The household outside the user's scope that already holds `value`, if any."""
    if not value:
        return None
    if field == RegistryClash.Field.ID_NUMBER:
        try:
            value = idnumber.normalize(value)
        except Exception:
            return None
        holders = Household.objects.filter(members__id_number=value)
        if exclude_pk:
            holders = holders.exclude(members__pk=exclude_pk)
    else:
        holders = Household.objects.filter(number=value)
        if exclude_pk:
            holders = holders.exclude(pk=exclude_pk)
    holder = holders.select_related("village").first()
    if holder is None or selectors.households_visible_to(user).filter(pk=holder.pk).exists():
        return None
    return holder


def registry_clashes_record(*, user: AnyUser | None, clashes: Iterable[Clash], channel: str = "entry") -> None:
    """Keep refused out-of-scope duplicates for the county's data-quality report."""
    RegistryClash.objects.bulk_create(
        RegistryClash(
            field=field,
            value=value,
            existing_household=holder,
            attempted_village=village,
            attempted_by=user if user is not None and user.is_authenticated else None,
            channel=channel,
        )
        for field, value, holder, village in clashes
    )


F = TypeVar("F", bound=Callable[..., Any])


def _records_clashes(func: F) -> F:
    """Record the clashes of a refused write after its transaction has rolled back."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RegistryClashError as exc:
            registry_clashes_record(user=kwargs.get("user"), clashes=exc.clashes)
            raise ValidationError(exc.error_dict if hasattr(exc, "error_dict") else exc.messages) from None

    return wrapper  # type: ignore[return-value]


def _household_clean(user: AnyUser, household: Household) -> None:
    holder = _hidden_holder(user, RegistryClash.Field.NUMBER, household.number, exclude_pk=household.pk)
    if holder is not None:
        clash = (RegistryClash.Field.NUMBER.value, household.number, holder, household.village)
        raise RegistryClashError({"number": [CLASH_MESSAGES[RegistryClash.Field.NUMBER]]}, [clash])
    household.full_clean()


def _check_can_edit(user: AnyUser, household: Household) -> None:
    if not selectors.can_edit_household(user, household):
        raise PermissionDenied("您的角色只能查看该农户，不能修改。")


def _assign(instance: object, data: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: "不能修改该字段。" for name in sorted(unknown)})
    for name, value in data.items():
        setattr(instance, name, value)


@_records_clashes
@transaction.atomic
def household_create(*, user: User, members: Iterable[Mapping[str, Any]] = (), **data: Any) -> Household:
    """Register a household, optionally with its members, all or nothing."""
    household = Household()
    _assign(household, data, HOUSEHOLD_FIELDS)
    _check_village(user, household.village if household.village_id else None)
    _household_clean(user, household)
    household.save()
    errors: dict[str, Any] = {}
    clashes: list[Clash] = []
    for index, member_data in enumerate(members):
        try:
            _member_save(user, household, Member(), member_data)
        except ValidationError as exc:
            clashes.extend(getattr(exc, "clashes", ()))
            # Keep the field name so callers can show the message next to the right input.
            for field, messages in exc.update_error_dict({}).items():
                errors[f"members[{index}].{field}"] = messages
    if clashes:
        raise RegistryClashError(errors, clashes)
    if errors:
        raise ValidationError(errors)
    return household


def households_moved(household_ids: Iterable[int]) -> None:
    """Tell the layers above that these households changed village (their cases keep the
    village: monitoring.services.households_moved), through the functions named in
    FANPIN_HOUSEHOLDS_MOVED: the registry imports nothing from them."""
    ids = list(household_ids)
    if ids:
        for path in getattr(settings, "FANPIN_HOUSEHOLDS_MOVED", ()):
            import_string(path)(household_ids=ids)


@_records_clashes
@transaction.atomic
def household_update(*, user: User, household: Household, **data: Any) -> Household:
    _check_can_edit(user, household)
    moved = "village" in data and data["village"] != household.village
    if moved:
        _check_village(user, data["village"])
    _assign(household, data, HOUSEHOLD_FIELDS)
    _household_clean(user, household)
    household.save()
    if moved:
        households_moved([household.pk])
    return household


def _member_save(user: AnyUser, household: Household, member: Member, data: Mapping[str, Any]) -> Member:
    _assign(member, data, MEMBER_FIELDS)
    member.household = household
    holder = _hidden_holder(user, RegistryClash.Field.ID_NUMBER, member.id_number, exclude_pk=member.pk)
    if holder is not None:
        clash = (RegistryClash.Field.ID_NUMBER.value, idnumber.normalize(member.id_number), holder, household.village)
        raise RegistryClashError({"id_number": [CLASH_MESSAGES[RegistryClash.Field.ID_NUMBER]]}, [clash])
    member.full_clean()
    member.save()
    return member


@_records_clashes
@transaction.atomic
def member_create(*, user: User, household: Household, **data: Any) -> Member:
    _check_can_edit(user, household)
    return _member_save(user, household, Member(), data)


@_records_clashes
@transaction.atomic
def member_update(*, user: User, member: Member, **data: Any) -> Member:
    _check_can_edit(user, member.household)
    return _member_save(user, member.household, member, data)


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


def export_logged(
    *, user: User, export_name: str, filters: dict[str, Any], row_count: int, channel: str = "page"
) -> PersonalDataView:
    """Record an export of case data in the access log (issue 11: who, when, the filters, how
    many rows), with the exporter's widest area, where the county's access log finds it."""
    areas = selectors.scope_areas(user)
    area = min(areas, key=lambda a: len(a.path)) if areas else None
    return PersonalDataView.objects.create(
        user=user,
        action=PersonalDataView.Action.EXPORT,
        channel=channel,
        export_name=export_name,
        filters=filters,
        row_count=row_count,
        area=area,
    )


def personal_data_viewed(*, user: User, household: Household, channel: str) -> None:
    """Record that a user was shown full ID numbers or phones of a household (DOMAIN.md §9:
    every full view is logged): the detail page and API, and the edit forms that show them.
    404 for a household outside the user's scope: nobody is shown (or logged as shown) those."""
    if not selectors.household_in_scope(user, household):
        raise Http404("未找到该农户，或您无权查看。")
    PersonalDataView.objects.create(user=user, household=household, channel=channel)
