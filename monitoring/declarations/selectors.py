"""Reads on self-declarations (农户自主申报), scoped like the registry: a user sees a
declaration exactly when its village lies in their area (DOMAIN.md §1). The public side reads
only through `status_lookup`, which tells the state and, once closed, the reason, and nothing
else, with the same answer for a wrong reference and a wrong ID number."""

from __future__ import annotations

import datetime
import hmac
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from households import idnumber
from households import selectors as household_selectors
from households.models import Area, Household, Member, Role
from households.selectors import AnyUser

from .. import workdays
from ..county_settings import county_settings_on
from ..models import Declaration

RELATED = ("village__parent__parent", "household", "case", "recorded_by", "handled_by")


def declarations_visible_to(user: AnyUser) -> QuerySet[Declaration]:
    if not user.is_authenticated:
        return Declaration.objects.none()
    return Declaration.objects.filter(household_selectors.area_scope_q(user, field="village"))


def declaration_for(user: AnyUser, pk: object) -> Declaration:
    """The declaration if the user may see it; 404 otherwise (never 403)."""
    return household_selectors.get_or_404(declarations_visible_to(user).select_related(*RELATED), pk=pk)


def queue(user: AnyUser, state: str | None = Declaration.State.OPEN) -> QuerySet[Declaration]:
    """One row per person: the first declaration of each group, with how many more the same
    person sent while it was open (`duplicate_count`), oldest first (the queue's order)."""
    rows = declarations_visible_to(user).filter(duplicate_of__isnull=True)
    if state:
        rows = rows.filter(state=state)
    # The duplicates counted by a subquery per row: counted through a join, the query grouped
    # by every joined table's columns (5 ms of planning for the inbox's three rows).
    duplicates = (
        Declaration.objects.filter(duplicate_of=OuterRef("pk"))
        .order_by()
        .values("duplicate_of")
        .annotate(n=Count("pk"))
    )
    return (
        rows.select_related(*RELATED)
        .annotate(duplicate_count=Coalesce(Subquery(duplicates.values("n")), 0))
        .order_by("declared_on", "id")
    )


def open_counts_by_village(user: AnyUser) -> list[tuple[Area, int]]:
    """Open declarations per village in scope, each person counted once (for the town): the
    villages with their count in one query (the queue's rows are the first declaration of
    each person)."""
    firsts = declarations_visible_to(user).filter(duplicate_of__isnull=True, state=Declaration.State.OPEN)
    per_village = firsts.filter(village=OuterRef("pk")).order_by().values("village").annotate(n=Count("id"))
    villages = (
        Area.objects.filter(pk__in=firsts.values("village"))
        .select_related("parent")
        .annotate(n=Subquery(per_village.values("n")))
        .order_by("path")
    )
    return [(v, v.n) for v in villages]


def group_of(declaration: Declaration) -> list[Declaration]:
    """The declaration's group: its first declaration and every later one joined to it."""
    first_id = declaration.duplicate_of_id or declaration.pk
    return list(
        Declaration.objects.filter(Q(pk=first_id) | Q(duplicate_of_id=first_id))
        .select_related(*RELATED)  # the page reads the first's village and town: not one query each
        .prefetch_related("photos")
        .order_by("declared_on", "id")
    )


def suggested_households(user: AnyUser, declaration: Declaration) -> list[Household]:
    """Households in the user's scope with a member of the declarer's ID number (suggested for
    linking). A household outside the scope is never named, so nothing is told about it."""
    members = household_selectors.members_visible_to(user).filter(
        id_number=declaration.id_number, status=Member.Status.ACTIVE
    )
    return list(
        Household.objects.filter(pk__in=members.values("household")).select_related("village").order_by("number")
    )


def villages_for_poster(user: AnyUser) -> QuerySet[Area]:
    """Villages whose poster the user may print: those of their village, town or county."""
    return household_selectors.areas_visible_to(user, level=Area.Level.VILLAGE).select_related("parent")


def acts_over(user: AnyUser, village: Area, roles: tuple[str, ...]) -> bool:
    """The user holds one of `roles` over the village (their village, its town or county)."""
    return any(
        r.role in roles and r.area is not None and village.path.startswith(r.area.path)
        for r in household_selectors.user_roles(user)
    )


def acts_over_any(user: AnyUser, roles: tuple[str, ...]) -> bool:
    return any(r.role in roles and r.area is not None for r in household_selectors.user_roles(user))


def available_actions(user: AnyUser, declaration: Declaration) -> list[str]:
    """What the user may do with the declaration now: link, start_case (village cadre), close
    (village cadre or town official); nothing once it is settled."""
    first = declaration.duplicate_of if declaration.duplicate_of_id else declaration
    assert first is not None
    if not first.is_open:
        return []
    actions: list[str] = []
    if acts_over(user, first.village, (Role.VILLAGE_CADRE,)):
        actions.append("link")
        if first.household_id:
            actions.append("start_case")
    if acts_over(user, first.village, (Role.VILLAGE_CADRE, Role.TOWN_OFFICIAL)):
        actions.append("close")
    return actions


# --- the public side ----------------------------------------------------------------------


def public_areas() -> QuerySet[Area]:
    """Every town with its villages, for the public form (names only: no household data)."""
    return Area.objects.filter(level=Area.Level.TOWN).select_related("parent").prefetch_related("children")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def status_lookup(reference: str, id_last6: str) -> Declaration | None:
    """The declaration with this reference whose ID number ends with `id_last6`, or None: one
    answer for a reference that does not exist and for a wrong ID number."""
    reference = (reference or "").strip().upper()
    last6 = idnumber.normalize(id_last6)
    if not reference or len(last6) != 6:
        return None
    found = Declaration.objects.filter(reference=reference).only("id_number", "state", "closed_reason").first()
    if found is None or not _same(found.id_number[-6:], last6):
        return None
    return found


@dataclass(frozen=True)
class NextStep:
    """What the declarer is told on the confirmation: who acts next and by when."""

    visit_by: datetime.date
    determined_by: datetime.date


# Working days within which the village cadre contacts the declarer (a visit at home); the
# county's own determination deadline (settings `determination_days`) runs from the declaration.
CONTACT_WORKING_DAYS = 3


def next_step(declaration: Declaration) -> NextStep:
    county = declaration.village.county
    settings = county_settings_on(county, declaration.declared_on)
    determined = workdays.add_days(
        declaration.declared_on, settings.determination_days, settings.determination_in_working_days
    )
    visit = workdays.add_days(declaration.declared_on, CONTACT_WORKING_DAYS, True)
    return NextStep(visit_by=min(visit.date, determined.date), determined_by=determined.date)
