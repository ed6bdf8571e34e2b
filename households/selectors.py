"""Reads, with scoping applied. Every page, API view, export, search and count that shows
households, members or income goes through `households_visible_to` (DOMAIN.md §1: a user
never sees a household outside their scope; forbidden objects answer 404)."""

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from .models import (
    DISABLED_Q, SEVERE_DISABILITY_Q, Area, Household, IncomeRecord, Member, Role, RoleAssignment,
)

AREA_ROLES = (Role.VILLAGE_CADRE, Role.TOWN_OFFICIAL, Role.COUNTY_OFFICER)
# Roles that may register and correct households: the village enters them, the county
# bureau maintains the registry; towns verify and read.
REGISTRY_WRITE_ROLES = (Role.VILLAGE_CADRE, Role.COUNTY_OFFICER)


def user_roles(user):
    """The user's role assignments, loaded once per request object."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_fanpin_roles", None)
    if cached is None:
        cached = list(RoleAssignment.objects.filter(user=user).select_related("area", "department"))
        user._fanpin_roles = cached
    return cached


def is_admin(user):
    return user.is_authenticated and (
        user.is_superuser or any(r.role == Role.ADMINISTRATOR for r in user_roles(user))
    )


def has_role(user, *roles):
    return is_admin(user) or any(r.role in roles for r in user_roles(user))


def scope_areas(user, roles=AREA_ROLES):
    return [r.area for r in user_roles(user) if r.role in roles and r.area_id]


def area_scope_q(user, field="village", roles=AREA_ROLES):
    """Q matching rows whose `field` (an Area FK) lies under one of the user's areas."""
    if is_admin(user):
        return Q()
    q = Q(pk__in=[])
    for area in scope_areas(user, roles):
        q |= Q(**{f"{field}__path__startswith": area.path})
    return q


def households_visible_to(user):
    """The one scoping rule for the registry."""
    if not user.is_authenticated:
        return Household.objects.none()
    return Household.objects.filter(area_scope_q(user))


def members_visible_to(user):
    return Member.objects.filter(household__in=households_visible_to(user))


def income_records_visible_to(user):
    return IncomeRecord.objects.filter(household__in=households_visible_to(user))


def areas_visible_to(user, level=None):
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


def villages_writable_by(user):
    """Villages where the user may register or correct households."""
    qs = Area.objects.filter(level=Area.Level.VILLAGE)
    if is_admin(user):
        return qs
    q = Q(pk__in=[])
    for area in scope_areas(user, REGISTRY_WRITE_ROLES):
        q |= Q(path__startswith=area.path)
    return qs.filter(q)


def can_edit_household(user, household):
    if is_admin(user):
        return True
    path = household.village.path
    return any(path.startswith(a.path) for a in scope_areas(user, REGISTRY_WRITE_ROLES))


def get_or_404(queryset, **lookup):
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该记录，或您无权查看。") from None


def household_for(user, pk):
    """The household if the user may see it; 404 otherwise (never 403: do not reveal it exists)."""
    return get_or_404(annotate_households(households_visible_to(user)).select_related("village__parent"), pk=pk)


# --- list annotations -------------------------------------------------------------------

SPECIAL_GROUPS = [
    ("illness", "大病/慢性病"),
    ("severe_disability", "重度残疾"),
    ("multi_disabled", "一户多残"),
    ("elderly_caring_disabled", "以老养残"),
    ("disabled_elderly", "失能老人"),
]
SPECIAL_GROUP_LABELS = dict(SPECIAL_GROUPS)


def _years_ago(today, years):
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _active_members():
    return Member.objects.filter(household=OuterRef("pk"), status=Member.Status.ACTIVE)


def special_group_q(code, today=None):
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
                active.filter(birth_date__gt=elderly_born_before, birth_date__lte=adult_born_before,
                              labour_capacity=Member.Labour.NORMAL).exclude(DISABLED_Q)
            )
        )
    if code == "disabled_elderly":
        return Exists(active.filter(
            birth_date__lte=elderly_born_before,
            labour_capacity__in=[Member.Labour.LOST, Member.Labour.NONE],
        ))
    raise ValueError(code)


def _count(subquery):
    return Coalesce(
        Subquery(subquery.order_by().values("household").annotate(c=Count("pk")).values("c")[:1],
                 output_field=IntegerField()),
        Value(0),
    )


def annotate_households(queryset, today=None):
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


def special_groups_of(household):
    """Labels of the special groups an annotated household belongs to."""
    labels = []
    for code, label in SPECIAL_GROUPS:
        if code == "multi_disabled":
            if (getattr(household, "disabled_count", 0) or 0) >= 2:
                labels.append(label)
        elif getattr(household, f"is_{code}", False):
            labels.append(label)
    return labels


def household_search_q(term):
    """Search by household number, a member's name, or (part of) an ID number."""
    from . import idnumber

    term = (term or "").strip()
    if not term:
        return Q()
    normalized = idnumber.normalize(term)
    members = Member.objects.filter(household=OuterRef("pk")).filter(
        Q(name__icontains=term) | Q(id_number__icontains=normalized)
    )
    return Q(number__icontains=term) | Exists(members)


def ordered_members(household):
    """Head first, then the living members by age, then those deceased or moved out."""
    return sorted(
        household.members.all(),
        key=lambda m: (m.status != Member.Status.ACTIVE, m.relation != Member.Relation.HEAD, m.birth_date),
    )


def latest_annual_income(household, before_year=None):
    qs = household.incomes.filter(month__isnull=True)
    if before_year:
        qs = qs.filter(year__lt=before_year)
    return qs.order_by("-year").first()
