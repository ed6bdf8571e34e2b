"""Who sees which warnings, their tiers, counts and the figures for tuning (DOMAIN.md §1, §6, §8).

- County officers: every warning and scale alert of their county.
- Town officials: the warnings of their town, whatever the state.
- Village cadres: their village's warnings once dispatched (a new one is the town's).
- Department staff: no warning; per upload only the counts of what their rows became.
Anything else is 404.

The tier (red / orange / yellow) is the rule's severity raised one step for each
`tier_escalate_days` an open warning stays unverified (county settings in force today),
computed in SQL so lists filter and sort by it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Least
from django.utils import timezone

from households import selectors as household_selectors
from households.models import Area, Role
from households.selectors import AnyUser
from monitoring.county_settings import read_once

from .models import RANK_TIER, TIER_RANK, RiskWarning, ScaleAlert, ScreeningUpload, Tier, WarningSettings, WarningState

OPEN = (WarningState.NEW, WarningState.DISPATCHED)


def warnings_visible_to(user: AnyUser) -> QuerySet[RiskWarning]:
    if not user.is_authenticated:
        return RiskWarning.objects.none()
    if household_selectors.is_admin(user):
        return RiskWarning.objects.all()
    q = Q(pk__in=[])
    for role in household_selectors.user_roles(user):
        if role.area is None:
            continue
        if role.role == Role.COUNTY_OFFICER:
            q |= Q(county=role.area)
        elif role.role == Role.TOWN_OFFICIAL:
            q |= Q(town=role.area)
        elif role.role == Role.VILLAGE_CADRE:
            q |= Q(village=role.area) & ~Q(state=WarningState.NEW)
    return RiskWarning.objects.filter(q)


def _get_or_404(queryset: QuerySet[RiskWarning], pk: object) -> RiskWarning:
    return household_selectors.get_or_404(queryset, pk=pk)


def warning_for(user: AnyUser, pk: object, today: datetime.date | None = None) -> RiskWarning:
    queryset = with_tier(warnings_visible_to(user), today).select_related(
        "county", "town", "village", "household", "case", "verified_by"
    )
    return _get_or_404(queryset, pk)


def warning_for_update(user: AnyUser, pk: object) -> RiskWarning:
    """The warning locked for the transaction (404 outside the user's scope)."""
    visible = _get_or_404(warnings_visible_to(user).only("pk"), pk)
    return (
        RiskWarning.objects.select_for_update(of=("self",))
        .select_related("county", "town", "village")
        .get(pk=visible.pk)
    )


def _settings_today(today: datetime.date) -> dict[int, WarningSettings]:
    """Each county's warning settings in force today, in one query (once per read-only request:
    the inbox's list and its counts both ask)."""
    return dict(read_once(("warning_settings", today), lambda: _read_settings_today(today)))


def _read_settings_today(today: datetime.date) -> dict[int, WarningSettings]:
    found: dict[int, WarningSettings] = {}
    for row in WarningSettings.objects.filter(effective_from__lte=today).order_by("county_id", "-effective_from"):
        found.setdefault(row.county_id, row)
    return found


DEFAULT_ESCALATE_DAYS = WarningSettings._meta.get_field("tier_escalate_days").get_default()


def with_tier(queryset: QuerySet[RiskWarning], today: datetime.date | None = None) -> QuerySet[RiskWarning]:
    """Annotate `tier_rank` (1–3) and `tier`: the severity, one step up per `tier_escalate_days`
    unverified (two steps at most)."""
    today = today or timezone.localdate()
    severity = Case(
        *(When(severity=tier, then=Value(rank)) for tier, rank in TIER_RANK.items()),
        default=Value(1),
        output_field=IntegerField(),
    )
    whens = []
    settings = _settings_today(today)
    for county_id, s in settings.items():
        whens += _bumps(Q(county_id=county_id), s.tier_escalate_days, today)
    whens += _bumps(~Q(county_id__in=list(settings)), DEFAULT_ESCALATE_DAYS, today)
    bump = Case(*whens, default=Value(0), output_field=IntegerField())
    # A verified warning keeps the tier it had when verified (it stops rising with age).
    rank = Case(
        *(When(verified_tier=tier, then=Value(rank)) for tier, rank in TIER_RANK.items()),
        default=Least(severity + bump, Value(3)),
        output_field=IntegerField(),
    )
    tier = Case(
        *(When(tier_rank=rank, then=Value(str(tier))) for rank, tier in RANK_TIER.items()),
        default=Value(str(Tier.YELLOW)),
    )
    return queryset.annotate(tier_rank=rank).annotate(tier=tier)


def tier_now(pk: int) -> str:
    """The warning's tier today (what verifying it freezes)."""
    tiers = with_tier(RiskWarning.objects.filter(pk=pk)).values_list("tier", flat=True)  # type: ignore[misc]
    return str(tiers.get())


def active(queryset: QuerySet[RiskWarning]) -> QuerySet[RiskWarning]:
    """Without the withdrawn warnings (their every finding gone from the data before anyone
    verified them): they leave the inbox, the counts, the alerts and the figures; their page
    stays reachable and says so."""
    return queryset.filter(withdrawn_at__isnull=True)


def _bumps(county: Q, days: int, today: datetime.date) -> list[When]:
    open_q = county & Q(state__in=OPEN)
    return [
        When(open_q & Q(raised_on__lte=today - datetime.timedelta(days=2 * days)), then=Value(2)),
        When(open_q & Q(raised_on__lte=today - datetime.timedelta(days=days)), then=Value(1)),
    ]


def overdue_q(today: datetime.date | None = None) -> Q:
    """Open warnings not verified within their county's `tier_escalate_days` (the settings in
    force today): 超期未核实, the point where a warning has risen one tier."""
    today = today or timezone.localdate()
    settings = _settings_today(today)
    late = Q(pk__in=[])
    for county_id, s in settings.items():
        late |= Q(county_id=county_id, raised_on__lte=today - datetime.timedelta(days=s.tier_escalate_days))
    late |= ~Q(county_id__in=list(settings)) & Q(raised_on__lte=today - datetime.timedelta(days=DEFAULT_ESCALATE_DAYS))
    return Q(state__in=OPEN) & late


def inbox(user: AnyUser, today: datetime.date | None = None) -> QuerySet[RiskWarning]:
    """Sorted by tier (red first), then age (oldest first)."""
    return (
        with_tier(active(warnings_visible_to(user)), today)
        .select_related("village", "town", "household", "case")
        .order_by("-tier_rank", "raised_on", "pk")  # type: ignore[misc]  # annotated by with_tier
    )


def open_count(user: AnyUser) -> int:
    """The navigation's count: open warnings the user can act on."""
    if not household_selectors.has_role(user, Role.VILLAGE_CADRE, Role.TOWN_OFFICIAL, Role.COUNTY_OFFICER):
        return 0
    visible = active(warnings_visible_to(user))
    if household_selectors.has_role(user, Role.VILLAGE_CADRE) and not household_selectors.has_role(
        user, Role.TOWN_OFFICIAL, Role.COUNTY_OFFICER
    ):
        return visible.filter(state=WarningState.DISPATCHED).count()
    return visible.filter(state__in=OPEN).count()


def counts(queryset: QuerySet[RiskWarning], today: datetime.date | None = None) -> dict[str, dict[str, int]]:
    """Counts by state and by tier of a (filtered) list, in one query: grouped on the stored
    columns the tier is made of (state, severity, verified tier, county, day raised: a few
    hundred groups), the tier of each group worked out here as with_tier does in SQL. Grouped
    on with_tier's CASE, PostgreSQL evaluated it for every warning of the county (50,000: 35 ms)."""
    today = today or timezone.localdate()
    settings = _settings_today(today)
    out: dict[str, dict[str, int]] = {"state": defaultdict(int), "tier": defaultdict(int)}
    rows = queryset.order_by().values_list("state", "severity", "verified_tier", "county_id", "raised_on")
    # COUNT(*), not of the ids: read from the (county, state, severity, …) index alone.
    for state, severity, verified_tier, county_id, raised_on, n in rows.annotate(n=Count("*")):
        escalate = settings[county_id].tier_escalate_days if county_id in settings else DEFAULT_ESCALATE_DAYS
        rank = tier_rank_of(state, severity, verified_tier, raised_on, escalate, today)
        out["state"][state] += n
        out["tier"][str(RANK_TIER[rank])] += n
    return {k: dict(v) for k, v in out.items()}


def tier_rank_of(
    state: str, severity: str, verified_tier: str, raised_on: datetime.date, escalate_days: int, today: datetime.date
) -> int:
    """with_tier's rank in Python: the tier frozen at verification, else the severity one step up
    per `escalate_days` an open warning waits (two at most), red at most."""
    ranks: dict[str, int] = {str(tier): rank for tier, rank in TIER_RANK.items()}
    if verified_tier in ranks:
        return ranks[verified_tier]
    rank = ranks.get(severity, 1)
    if state in OPEN:
        if raised_on <= today - datetime.timedelta(days=2 * escalate_days):
            rank += 2
        elif raised_on <= today - datetime.timedelta(days=escalate_days):
            rank += 1
    return min(rank, 3)


def tier_q(tier: str, today: datetime.date | None = None) -> Q:
    """The warnings whose tier today is `tier` (with_tier's rank), as comparisons of the stored
    columns and days: no expression per row to sort on, so a page of one tier is read in age
    order from the (county, raised_on) index."""
    today = today or timezone.localdate()
    settings = _settings_today(today)
    areas = [(Q(county_id=county_id), s.tier_escalate_days) for county_id, s in settings.items()]
    areas.append((~Q(county_id__in=list(settings)), DEFAULT_ESCALATE_DAYS))
    wanted = TIER_RANK[tier]  # type: ignore[index]  # a Tier value
    unverified = ~Q(verified_tier__in=list(TIER_RANK))
    q = Q(verified_tier=tier)
    severities = [(Q(severity=s), rank) for s, rank in TIER_RANK.items()]
    severities.append((~Q(severity__in=list(TIER_RANK)), 1))
    for severity, rank in severities:
        for bump in (0, 1, 2):
            if min(rank + bump, 3) == wanted:
                q |= unverified & severity & _waited(bump, areas, today)
    return q


def _waited(bump: int, areas: list[tuple[Q, int]], today: datetime.date) -> Q:
    """Warnings raised `bump` escalation steps ago: open and waiting that long (bump 0: not open
    or not yet a step)."""
    q = Q(pk__in=[])
    for area, days in areas:
        one, two = today - datetime.timedelta(days=days), today - datetime.timedelta(days=2 * days)
        if bump == 2:
            q |= area & Q(raised_on__lte=two)
        elif bump == 1:
            q |= area & Q(raised_on__lte=one, raised_on__gt=two)
        else:
            q |= area & Q(raised_on__gt=one)
    is_open = Q(state__in=OPEN)
    return ~is_open | q if bump == 0 else is_open & q


def alerts_visible_to(user: AnyUser) -> QuerySet[ScaleAlert]:
    if not user.is_authenticated:
        return ScaleAlert.objects.none()
    if household_selectors.is_admin(user):
        return ScaleAlert.objects.select_related("area", "county")
    counties = [a for a in household_selectors.scope_areas(user, (Role.COUNTY_OFFICER,))]
    return ScaleAlert.objects.filter(county__in=counties).select_related("area", "county")


def alert_warnings(alert: ScaleAlert) -> QuerySet[RiskWarning]:
    """The warnings behind a scale alert."""
    field = "village" if alert.area.level == Area.Level.VILLAGE else "town"
    return active(RiskWarning.objects.filter(**{field: alert.area}, risk_type=alert.risk_type, period=alert.period))


def rule_quality(user: AnyUser) -> list[dict[str, Any]]:
    """Per county and rule: warnings raised, verified, included, and the share of verified
    that were included (for tuning thresholds; no ranking of people)."""
    counties = household_selectors.scope_areas(user, (Role.COUNTY_OFFICER,))
    queryset = (
        RiskWarning.objects.all()
        if household_selectors.is_admin(user)
        else RiskWarning.objects.filter(county__in=counties)
    )
    rows = (
        active(queryset)
        .values("county__name", "rule")
        .annotate(
            total=Count("pk"),
            included=Count("pk", filter=Q(state=WarningState.INCLUDED)),
            excluded=Count("pk", filter=Q(state=WarningState.EXCLUDED)),
        )
        .order_by("county__name", "rule")
    )
    out = []
    for row in rows:
        verified = row["included"] + row["excluded"]
        out.append(
            {
                **row,
                "verified": verified,
                "precision": round(row["included"] * 100 / verified, 1) if verified else None,
            }
        )
    return out


def upload_outcomes(upload: ScreeningUpload) -> dict[str, int]:
    """What an upload's rows became, counts only (for department staff): the warnings citing
    the upload, and how they were verified."""
    rows = RiskWarning.objects.filter(uploads__contains=[upload.pk]) if _json_contains() else None
    if rows is None:
        ids = [
            w.pk
            for w in RiskWarning.objects.filter(county=upload.department.county, period=upload.period).only(
                "pk", "uploads"
            )
            if upload.pk in w.uploads
        ]
        rows = RiskWarning.objects.filter(pk__in=ids)
    withdrawn = rows.filter(withdrawn_at__isnull=False).count()
    found = dict(active(rows).order_by().values_list("state").annotate(n=Count("pk")))
    return {
        "warnings": sum(found.values()),
        "withdrawn": withdrawn,
        "open": found.get(WarningState.NEW, 0) + found.get(WarningState.DISPATCHED, 0),
        "included": found.get(WarningState.INCLUDED, 0),
        "excluded": found.get(WarningState.EXCLUDED, 0),
    }


def _json_contains() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"
