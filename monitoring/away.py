"""Households living away (外出务工 most of the year), a registry fact: they are visited at least
quarterly instead of monthly (seed 003 篇三; the county's away_visit_interval_days, default 90).

A household lives away when every member living in it works outside the county for at least
half the year (the registry's work place and months): nobody is at home to visit monthly. A
household with anyone at home (children in school, elderly parents) keeps the monthly rule.
"""

from django.db.models import Exists, OuterRef, Q

from households.models import Household, Member

AWAY_PLACES = (Member.WorkPlace.IN_PROVINCE, Member.WorkPlace.OUT_PROVINCE)
AWAY_MONTHS = 6


def member_is_away(member: Member) -> bool:
    return member.work_place in AWAY_PLACES and member.work_months >= AWAY_MONTHS


def household_lives_away(household: Household) -> bool:
    """From the members already loaded (prefetch `household.members` for lists)."""
    active = [m for m in household.members.all() if m.status == Member.Status.ACTIVE]
    return bool(active) and all(member_is_away(m) for m in active)


def lives_away_q(household_field: str = "household") -> Q:
    """The same rule in SQL, for a queryset whose `household_field` points at the household."""
    active = Member.objects.filter(household=OuterRef(household_field), status=Member.Status.ACTIVE)
    at_home = active.exclude(work_place__in=AWAY_PLACES, work_months__gte=AWAY_MONTHS)
    return Q(Exists(active)) & ~Q(Exists(at_home))
