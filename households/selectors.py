"""Reads, with scoping applied. Every page, API view, export, search and count that shows
households, members or income goes through `households_visible_to` (DOMAIN.md §1: a user
never sees a household outside their scope; forbidden objects answer 404)."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import Combinable, RawSQL
from django.db.models.functions import Abs, Cast, Coalesce, Mod, Round, StrIndex, Upper
from django.http import Http404
from django.utils import timezone

from . import quality
from .models import (
    DISABLED_Q,
    SEVERE_DISABILITY_Q,
    Area,
    Household,
    IncomeRecord,
    Member,
    PersonalDataView,
    RegistryClash,
    Role,
    RoleAssignment,
)

AREA_ROLES = (Role.VILLAGE_CADRE, Role.TOWN_OFFICIAL, Role.COUNTY_OFFICER)
# Roles that may register and correct households: the village enters them, the county
# bureau maintains the registry; towns verify and read.
REGISTRY_WRITE_ROLES = (Role.VILLAGE_CADRE, Role.COUNTY_OFFICER)

# Who a page, the API, a task or the importer acts for: request.user may be anonymous.
AnyUser: TypeAlias = User | AnonymousUser
_Row = TypeVar("_Row")
_M = TypeVar("_M", bound=Model)


def user_roles(user: AnyUser) -> list[RoleAssignment]:
    """The user's role assignments, loaded once per request object."""
    if not user.is_authenticated:
        return []
    cached: list[RoleAssignment] | None = getattr(user, "_fanpin_roles", None)
    if cached is None:
        cached = list(RoleAssignment.objects.filter(user=user).select_related("area", "department"))
        user.__dict__["_fanpin_roles"] = cached  # a cache on the request's user object, not a field
    return cached


def is_admin(user: AnyUser) -> bool:
    return user.is_authenticated and (user.is_superuser or any(r.role == Role.ADMINISTRATOR for r in user_roles(user)))


def user_profile(user: AnyUser) -> str:
    """Which kind of user the navigation and the landing page are for: "department" (staff of a
    line department and nothing else: their work is the screening uploads), "helper" (a contact
    person without a role: their work is 我的帮扶), or "" (everyone acting in an area, and the
    administrator). Roles are cached on the user: no query after the first."""
    if not user.is_authenticated or is_admin(user):
        return ""
    roles = user_roles(user)
    if not roles:
        return "helper"
    if all(r.role == Role.DEPARTMENT_STAFF for r in roles):
        return "department"
    return ""


def has_role(user: AnyUser, *roles: str) -> bool:
    return is_admin(user) or any(r.role in roles for r in user_roles(user))


def may_see_access_log(user: AnyUser) -> bool:
    """The access log (who saw full ID numbers or phones, who exported) is the county bureau's."""
    return has_role(user, Role.COUNTY_OFFICER)


def access_log_visible_to(user: AnyUser) -> QuerySet[PersonalDataView]:
    """The access log of the county officer's counties: views of their households' full ID
    numbers and phones, and exports made by users working there. Empty for anyone else."""
    if not may_see_access_log(user):
        return PersonalDataView.objects.none()
    entries = PersonalDataView.objects.select_related("user", "household__village", "area")
    if is_admin(user):
        return entries
    q = Q(pk__in=[])
    for area in scope_areas(user, (Role.COUNTY_OFFICER,)):
        q |= Q(household__village__path__startswith=area.path) | Q(area__path__startswith=area.path)
    return entries.filter(q)


def scope_areas(user: AnyUser, roles: Iterable[str] = AREA_ROLES) -> list[Area]:
    return [r.area for r in user_roles(user) if r.role in roles and r.area is not None]


def area_scope_q(user: AnyUser, field: str = "village", roles: Iterable[str] = AREA_ROLES) -> Q:
    """Q matching rows whose `field` (an Area FK) lies under one of the user's areas."""
    if is_admin(user):
        return Q()
    q = Q(pk__in=[])
    for area in scope_areas(user, roles):
        q |= Q(**{f"{field}__path__startswith": area.path})
    return q


def scope_area_rows(user: AnyUser) -> list[Area] | None:
    """The areas of the user's scope (their role areas and every area under them), ordered by
    path, read once per request object (None: an administrator, every area). The registry's
    scope filter, the list's town and village choices and whether the user may register are
    answered from it, without a query each."""
    if is_admin(user):
        return None
    roles = user_roles(user)
    # Keyed on the role list: whoever reloads the roles (_fanpin_roles = None) reloads this too.
    cached: tuple[list[RoleAssignment], list[Area]] | None = getattr(user, "_fanpin_scope_areas", None)
    if cached is None or cached[0] is not roles:
        areas = scope_areas(user)
        rows: list[Area] = sorted({area.pk: area for area in areas}.values(), key=lambda area: area.path)
        if any(area.level != Area.Level.VILLAGE for area in areas):  # a village has nothing under it
            q = Q(pk__in=[])
            for area in areas:
                q |= Q(path__startswith=area.path)
            rows = list(Area.objects.filter(q).order_by("path"))
        cached = (roles, rows)
        user.__dict__["_fanpin_scope_areas"] = cached  # a cache on the request's user object, not a field
    return cached[1]


def scope_village_ids(user: AnyUser) -> list[int] | None:
    """Ids of the areas (villages, and the towns and county above them) in the user's scope,
    loaded once per request object (None: an administrator, every village). The registry's
    queries filter `village_id IN (…)` on this list: PostgreSQL then reads the (village,
    number) index one village after another and stops at the page's end, so a county's pages
    cost the same whether the database holds one county or a hundred (a join to the area's
    path let it scan every household)."""
    rows = scope_area_rows(user)
    if rows is None:
        return None
    return sorted(area.pk for area in rows)


# The registry's list order: village by village (the scope's areas in id order), by number
# within a village. It is the (village, number) index's own order, so a page is read from the
# index and stops at its end; household numbers begin with the village's code, so within a
# county it is nearly the order of the numbers.
HOUSEHOLD_ORDER = ("village_id", "number")


def households_visible_to(user: AnyUser, households: QuerySet[Household] | None = None) -> QuerySet[Household]:
    """The one scoping rule for the registry, applied to `households` (default: all of them;
    annotated_households() for the list's annotations)."""
    households = Household.objects.all() if households is None else households
    if not user.is_authenticated:
        return households.none()
    villages = scope_village_ids(user)
    if villages is None:
        return households
    return households.filter(village_id__in=villages)


def household_in_scope(user: AnyUser, household: Household) -> bool:
    """Whether `households_visible_to(user)` holds this household (read from the database),
    decided on its village from the scope's cached ids: no query."""
    if not user.is_authenticated:
        return False
    villages = scope_village_ids(user)
    return villages is None or household.village_id in villages


def members_visible_to(user: AnyUser) -> QuerySet[Member]:
    return Member.objects.filter(household__in=households_visible_to(user))


def income_records_visible_to(user: AnyUser) -> QuerySet[IncomeRecord]:
    return IncomeRecord.objects.filter(household__in=households_visible_to(user))


def areas_visible_to(user: AnyUser, level: str | None = None) -> QuerySet[Area]:
    """Areas inside the user's scope (for filter and form choices)."""
    if is_admin(user):
        qs = Area.objects.all()
    else:
        q = Q(pk__in=[])
        for area in scope_areas(user):
            q |= Q(path__startswith=area.path)
        qs = Area.objects.filter(q)
    if level:
        qs = qs.filter(level=level)
    return qs.order_by("path")


def villages_writable_by(user: AnyUser) -> QuerySet[Area]:
    """Villages where the user may register or correct households."""
    qs = Area.objects.filter(level=Area.Level.VILLAGE)
    if is_admin(user):
        return qs
    q = Q(pk__in=[])
    for area in scope_areas(user, REGISTRY_WRITE_ROLES):
        q |= Q(path__startswith=area.path)
    return qs.filter(q)


def may_register_households(user: AnyUser) -> bool:
    """Whether villages_writable_by(user) holds a village, from the cached scope (no query but
    for the administrator)."""
    rows = scope_area_rows(user)
    if rows is None:
        return villages_writable_by(user).exists()
    writable = [area.path for area in scope_areas(user, REGISTRY_WRITE_ROLES)]
    return any(row.level == Area.Level.VILLAGE and row.path.startswith(tuple(writable)) for row in rows)


def areas_in_scope(user: AnyUser, level: str) -> list[Area] | None:
    """The rows of areas_visible_to(user, level), from the cached scope (None: an
    administrator; ask areas_visible_to)."""
    rows = scope_area_rows(user)
    if rows is None:
        return None
    return [row for row in rows if row.level == level]


def can_edit_household(user: AnyUser, household: Household) -> bool:
    if is_admin(user):
        return True
    path = household.village.path
    return any(path.startswith(a.path) for a in scope_areas(user, REGISTRY_WRITE_ROLES))


def get_or_404(queryset: QuerySet[Any, _Row], **lookup: Any) -> _Row:
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404("未找到该记录，或您无权查看。") from None


def household_for(user: AnyUser, pk: object) -> Household:
    """The household if the user may see it; 404 otherwise (never 403: do not reveal it exists)."""
    return get_or_404(households_visible_to(user, annotated_households()), pk=pk)


# --- list annotations -------------------------------------------------------------------

SPECIAL_GROUPS = [
    ("illness", "大病/慢性病"),
    ("severe_disability", "重度残疾"),
    ("multi_disabled", "一户多残"),
    ("elderly_caring_disabled", "以老养残"),
    ("disabled_elderly", "失能老人"),
]
SPECIAL_GROUP_LABELS = dict(SPECIAL_GROUPS)


def _years_ago(today: datetime.date, years: int) -> datetime.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _active_members() -> QuerySet[Member]:
    return Member.objects.filter(household=OuterRef("pk"), status=Member.Status.ACTIVE)


def special_group_q(code: str, today: datetime.date | None = None) -> Q | Exists | Combinable:
    """The SQL definition of each special group (seeds 003, 004), used for filtering."""
    today = today or timezone.localdate()
    elderly_born_before = _years_ago(today, 60)
    adult_born_before = _years_ago(today, 16)
    active = _active_members()
    if code == "illness":
        return Exists(active.filter(health__in=[Member.Health.CHRONIC, Member.Health.SERIOUS]))
    if code == "severe_disability":
        return Exists(active.filter(SEVERE_DISABILITY_Q))
    if code == "multi_disabled":
        return Q(disabled_count__gte=2)
    if code == "elderly_caring_disabled":
        # Old people caring for a disabled member, with no able-bodied working-age member.
        return (
            Exists(active.filter(birth_date__lte=elderly_born_before).exclude(DISABLED_Q))
            & Exists(active.filter(DISABLED_Q))
            & ~Exists(
                active.filter(
                    birth_date__gt=elderly_born_before,
                    birth_date__lte=adult_born_before,
                    labour_capacity=Member.Labour.NORMAL,
                ).exclude(DISABLED_Q)
            )
        )
    if code == "disabled_elderly":
        return Exists(
            active.filter(
                birth_date__lte=elderly_born_before,
                labour_capacity__in=[Member.Labour.LOST, Member.Labour.NONE],
            )
        )
    raise ValueError(code)


def _count(subquery: QuerySet[Any]) -> Coalesce:
    return Coalesce(
        Subquery(
            subquery.order_by().values("household").annotate(c=Count("pk")).values("c")[:1], output_field=IntegerField()
        ),
        Value(0),
    )


def annotate_households(queryset: QuerySet[Household], today: datetime.date | None = None) -> QuerySet[Household]:
    """Head, size, latest income and special-group flags in the same query as the list."""
    head = _active_members().filter(relation=Member.Relation.HEAD)
    latest_income = IncomeRecord.objects.filter(household=OuterRef("pk"), month__isnull=True).order_by("-year")
    queryset = queryset.annotate(
        head_name=Subquery(head.values("name")[:1]),
        head_id_number=Subquery(head.values("id_number")[:1]),
        size=_count(_active_members()),
        disabled_count=_count(_active_members().filter(DISABLED_Q)),
        latest_income_year=Subquery(latest_income.values("year")[:1]),
        latest_per_capita_income=Subquery(latest_income.values("per_capita_net_income")[:1]),
    )
    flags = {f"is_{code}": special_group_q(code, today) for code, _ in SPECIAL_GROUPS if code != "multi_disabled"}
    return queryset.annotate(**flags)


_built = threading.local()


def annotated_households(today: datetime.date | None = None) -> QuerySet[Household]:
    """Every household with annotate_households' annotations and its village and town: a page
    filters it to its ids, a detail page to one household. The queryset is built once per
    thread and day and cloned for each use: building its dozen subqueries took about 7 ms of
    CPU a page, as long as compiling and running the page's query. (Per thread: compiling a
    query touches its subqueries' alias counts, so threads must not share one.)"""
    today = today or timezone.localdate()
    built: tuple[datetime.date, QuerySet[Household]] | None = getattr(_built, "households", None)
    if built is None or built[0] != today:
        built = (today, _precompiled(annotate_households(Household.objects.all(), today)))
        _built.households = built
    return built[1].all()


def _precompiled(annotated: QuerySet[Household]) -> QuerySet[Household]:
    """`annotated` with each annotation's SQL compiled once: the same columns as RawSQL, so a
    page's query compiles a dozen strings instead of a dozen subqueries (about 2 ms of CPU a
    page, half of compiling the page's query). The SQL names the outer household as
    "households_household": the queryset must be the query itself (filtered, ordered,
    counted, paged), never a subquery of another (whose tables are renamed)."""
    compiler = annotated.query.get_compiler(using=annotated.db)
    compiler.setup_query()  # compiles every selected column, the annotations among them
    annotations = annotated.query.annotations
    columns = {
        alias: RawSQL(sql, tuple(params), output_field=annotations[alias].output_field)
        for _expression, (sql, params), alias in compiler.select
        if alias in annotations
    }
    return Household.objects.select_related("village__parent").annotate(**columns)


def special_groups_of(household: Household) -> list[str]:
    """Labels of the special groups an annotated household belongs to."""
    labels = []
    for code, label in SPECIAL_GROUPS:
        if code == "multi_disabled":
            if (getattr(household, "disabled_count", 0) or 0) >= 2:
                labels.append(label)
        elif getattr(household, f"is_{code}", False):
            labels.append(label)
    return labels


# Below this many characters a trigram index has nothing to look up (pg_trgm finds no
# trigram in "%张伟%"): shorter terms match names and numbers from their start instead, which
# a b-tree index answers.
SEARCH_SUBSTRING_MIN = 3


def household_search_q(term: str | None, villages: Collection[int] | None = None) -> Q:
    """Search by household number, a member's name, or (part of) an ID number.

    A term of three characters or more matches anywhere in a number, name or ID number (on
    PostgreSQL through the trigram indexes of migration 0009); a shorter one matches from the
    start (a surname, a two-character name). Written as `id IN (… UNION …)` of three indexed
    lookups: an OR of a household condition and a member subquery can only be answered by
    checking every household in scope.

    `villages` (the scope's area ids, scope_village_ids) bounds each lookup to those areas'
    households. Without it, with ten counties in the database PostgreSQL estimated every
    county's trigram matches for the union (768 rows for a name matching 10) and joined it by
    hashing all 100,000 households of the scope (33 ms, against 0.1 ms for 10 index probes);
    bounded, each lookup's estimate carries the scope's share of the registry."""
    matches = _search_matches(term, villages)
    return Q() if matches is None else Q(pk__in=matches)


# A search that finds at most this many households reads their ids first (one query), so the
# page's count and its ids are index probes of those ids: the lookups ran twice a page, and at
# ten counties a term of digits reads the trigram index's long posting lists (every county's
# numbers and ID numbers share the area code's digits: 10-20 ms a run). More found than this
# (a surname), the page's queries carry the lookups as before.
SEARCH_IDS_READ_AT_ONCE = 2000


def household_search_found(term: str | None, villages: Collection[int] | None = None) -> Q:
    """household_search_q's condition, the households found read first when they are at most
    SEARCH_IDS_READ_AT_ONCE (the same households: the same lookups, run once)."""
    matches = _search_matches(term, villages)
    if matches is None:
        return Q()
    ids = [row["household_id"] for row in matches[: SEARCH_IDS_READ_AT_ONCE + 1]]
    if len(ids) > SEARCH_IDS_READ_AT_ONCE:
        return Q(pk__in=matches)
    return Q(pk__in=ids)


def _search_matches(term: str | None, villages: Collection[int] | None) -> QuerySet[Any, Any] | None:
    """The union of household_search_q's lookups (rows {"household_id": id}), None for no term."""
    from . import idnumber

    term = (term or "").strip()
    if not term:
        return None
    normalized = idnumber.normalize(term)
    lookup = "icontains" if len(term) >= SEARCH_SUBSTRING_MIN else "istartswith"
    members = Member.objects.order_by()
    households = Household.objects.order_by()
    if villages is not None:
        members = members.filter(household__village_id__in=villages)
        households = households.filter(village_id__in=villages)
    by_name = members.filter(**{f"name__{lookup}": term}).values("household_id")
    by_number = _contains(households, "number", term, lookup).values("pk")
    matches = by_name.union(by_number)
    if len(normalized) == idnumber.LENGTH:
        # A whole ID number: the unique index finds it.
        matches = matches.union(members.filter(id_number=normalized).values("household_id"))
    elif normalized:
        id_lookup = "icontains" if len(normalized) >= SEARCH_SUBSTRING_MIN else "istartswith"
        matches = matches.union(_contains(members, "id_number", normalized, id_lookup).values("household_id"))
    return matches


# A number's or ID number's trigram lookup reads the index for the term's last this many
# characters and checks the whole term row by row. Their first digits are the most common
# (every household number and most ID numbers of a county begin with its area code, an ID
# number's next digits are a birth year): an 18-digit term's trigrams include the area code's,
# whose lists hold every household of the county, 14-24 ms at ten counties; its last six,
# 0.4 ms. A birth date (8 digits) among 3.5 million ID numbers: 40 ms → 10 ms.
SEARCH_INDEX_TAIL = 6


def _contains(queryset: QuerySet[_M], field: str, term: str, lookup: str) -> QuerySet[Any, Any]:
    """queryset.filter(<field>__<lookup>=term), the same rows; "icontains" of a long term
    through the index by its tail, the whole term then found by STRPOS (INSTR on SQLite) in
    the same upper-cased text the lookup compares."""
    if lookup != "icontains" or len(term) <= SEARCH_INDEX_TAIL:
        return queryset.filter(**{f"{field}__{lookup}": term})
    tail: QuerySet[_M] = queryset.filter(**{f"{field}__icontains": term[-SEARCH_INDEX_TAIL:]})
    return tail.alias(search_position=StrIndex(Upper(field), Upper(Value(term)))).filter(search_position__gt=0)


def ordered_members(household: Household) -> list[Member]:
    """Head first, then the living members by age, then those deceased or moved out."""
    return sorted(
        household.members.all(),
        key=lambda m: (m.status != Member.Status.ACTIVE, m.relation != Member.Relation.HEAD, m.birth_date),
    )


def latest_annual_income(household: Household, before_year: int | None = None) -> IncomeRecord | None:
    qs = household.incomes.filter(month__isnull=True)
    if before_year:
        qs = qs.filter(year__lt=before_year)
    return qs.order_by("-year").first()


# --- data-quality report ----------------------------------------------------------------


def _cents(expression: Combinable) -> Cast:
    """A money expression as whole cents. SQLite keeps decimals as floats (0.1 + 0.2 is not
    0.3 there), so comparing integer cents is exact on both databases."""
    return Cast(Round(expression * 100), BigIntegerField())


def _check_bits(conditions: Mapping[str, Q | Exists | Combinable]) -> ExpressionWrapper[Combinable]:
    """One integer per row with bit i set when the row fails quality.CHECKS[i] (a row of
    members or incomes may fail several checks; one scan answers them all)."""
    mask: Combinable = Value(0)
    for code, condition in conditions.items():
        mask = mask + Case(When(condition, then=_check_bit(code)), default=Value(0))
    return ExpressionWrapper(mask, output_field=IntegerField())


def _check_bit(code: str) -> Value:
    return Value(1 << [c for c, _ in quality.CHECKS].index(code))


def _any(conditions: Iterable[Q]) -> Q:
    combined = Q(pk__in=[])
    for condition in conditions:
        combined |= condition
    return combined


def _quality_scans(
    households: QuerySet[Household], scope: Q, today: datetime.date
) -> list[QuerySet[Any, tuple[int, str, int]]]:
    """Four scans (households, members, incomes, latest incomes) of `households` (members and
    incomes by `scope`, the same rule followed through their household), each answering
    (household id, household number, failed-checks bits) for the failing rows only.

    The SQL twin of quality.household_findings (same codes, same thresholds); a test keeps
    the two in agreement. Plain filtered scans joined to the scope (the rule of
    households_visible_to, followed through the household for members and incomes): an OR
    of per-household subqueries ran for minutes on PostgreSQL at 100,000 households.
    """
    active = _active_members()
    without_head = households.filter(~Exists(active.filter(relation=Member.Relation.HEAD)))
    household_scan = without_head.annotate(
        qa_mask=_check_bits(
            {
                "no_members": ~Exists(active),
                "no_head": Exists(active),
            }
        )
    ).values_list("pk", "number", "qa_mask")

    works = Q(work_months__gt=0) | ~Q(work_place="")
    member_checks = {
        "child_wage": works & Q(birth_date__gt=_years_ago(today, quality.WORKING_AGE)),
        "student_wage": works & ~Q(schooling=""),
        "unable_wage": works & Q(labour_capacity__in=quality.UNABLE_TO_WORK),
        "dibao_and_tekun": Q(dibao=True, tekun=True),
        "disability_category": Q(disability_level__gt=0, disability_category=""),
    }
    members = (
        Member.objects.filter(scope, status=Member.Status.ACTIVE)
        .filter(_any(member_checks.values()))
        .annotate(qa_mask=_check_bits(member_checks))
        .values_list("household", "household__number", "qa_mask")
    )

    income_checks = {
        # Both sides have two decimals: any real difference is at least a cent, and the
        # half-cent margin absorbs SQLite's float arithmetic (0.1 + 0.2 is not 0.3 there).
        "income_total": Q(qa_total_gap__gte=Decimal("0.005")),
        # Python rounds per-capita income half to even (Decimal.quantize): the stored value
        # is right within half a cent of total / size, and on an exact half when even.
        "per_capita": Q(household_size=0) & ~Q(qa_per_capita=0)
        | Q(household_size__gt=0, qa_deviation__gt=F("household_size"))
        | Q(household_size__gt=0, qa_deviation=F("household_size"), qa_per_capita_odd=1),
        "policy_transfer": Q(policy_transfer_income__gt=F("transfer_income")),
    }
    scoped_incomes = IncomeRecord.objects.filter(scope)
    parts = F("wage_income") + F("business_income") - F("business_costs") + F("property_income") + F("transfer_income")
    incomes = (
        scoped_incomes.alias(
            qa_total_gap=Abs(F("total_net_income") - parts),
            qa_per_capita=_cents(F("per_capita_net_income")),
            qa_deviation=Abs(
                2 * (_cents(F("per_capita_net_income")) * F("household_size") - _cents(F("total_net_income")))
            ),
            qa_per_capita_odd=Abs(Mod(_cents(F("per_capita_net_income")), 2)),
        )
        .filter(_any(income_checks.values()))
        .annotate(qa_mask=_check_bits(income_checks))
        .values_list("household", "household__number", "qa_mask")
    )

    # The latest annual record, if recent, counts a different number of people than live
    # there. Counted by a join and GROUP BY, not a count per record: nobody living there
    # counts 0, which is never "different" (the no_members check reports that household).
    later_annual = IncomeRecord.objects.filter(
        household=OuterRef("household"), month__isnull=True, year__gt=OuterRef("year")
    )
    stale_size = (
        scoped_incomes.filter(month__isnull=True, year__gte=quality.oldest_checked_income_year(today))
        .exclude(Exists(later_annual))
        .annotate(
            qa_active=Count("household__members", filter=Q(household__members__status=Member.Status.ACTIVE)),
        )
        .filter(qa_active__gt=0)
        .exclude(household_size=F("qa_active"))
        .annotate(qa_mask=_check_bit("household_size"))
        .values_list("household", "household__number", "qa_mask")
    )
    return [household_scan, members, incomes, stale_size]


def quality_failures(user: AnyUser, today: datetime.date | None = None) -> dict[int, tuple[str, set[str]]]:
    """{household id: (household number, {failing check codes})} for the user's households
    that fail a data-quality check: one query (a UNION ALL of four scans) that answers for
    the failing households only, a small share of the registry."""
    today = today or timezone.localdate()
    return _quality_union(_quality_scans(households_visible_to(user), area_scope_q(user, "household__village"), today))


def quality_failures_among(household_ids: Collection[int], today: datetime.date) -> dict[int, tuple[str, set[str]]]:
    """quality_failures for the given households only, whoever may see them (the importer
    checks the households it has just written, as a page checks the one it saved)."""
    ids = list(household_ids)
    return _quality_union(_quality_scans(Household.objects.filter(pk__in=ids), Q(household_id__in=ids), today))


def _quality_union(scans: list[QuerySet[Any, tuple[int, str, int]]]) -> dict[int, tuple[str, set[str]]]:
    first, *others = (scan.order_by() for scan in scans)
    failures: dict[int, tuple[str, set[str]]] = {}
    for household, number, mask in first.union(*others, all=True):
        codes = failures.setdefault(household, (number, set()))[1]
        codes.update(code for index, (code, _) in enumerate(quality.CHECKS) if mask & (1 << index))
    return failures


def registry_clashes_for(user: AnyUser) -> QuerySet[RegistryClash]:
    """Refused duplicates (households.services.CLASH_MESSAGES) for the county to settle: shown
    to county officers for clashes that touch their county, and to administrators. Village
    and town staff never see them: the other side may lie outside their scope."""
    if is_admin(user):
        scope = Q()
    elif any(r.role == Role.COUNTY_OFFICER for r in user_roles(user)):
        scope = Q(pk__in=[])
        for area in scope_areas(user, (Role.COUNTY_OFFICER,)):
            scope |= Q(existing_household__village__path__startswith=area.path)
            scope |= Q(attempted_village__path__startswith=area.path)
    else:
        return RegistryClash.objects.none()
    return RegistryClash.objects.filter(scope).select_related(
        "existing_household__village__parent", "attempted_village__parent", "attempted_by"
    )
