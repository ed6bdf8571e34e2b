from django import template
from django.db.models import Count, Window

register = template.Library()


@register.inclusion_tag("monitoring/_days_left.html")
def days_left(deadline):
    """Days left to the county determination, red once overdue (DOMAIN.md §3: 15-day limit)."""
    if deadline is None:
        return {"deadline": None}
    return {"deadline": deadline, "late": -deadline.days_left, "soon": 0 <= deadline.days_left <= 3}


@register.inclusion_tag("monitoring/_household_cases.html", takes_context=True)
def household_monitoring(context, household):
    """The monitoring part of the household page: its cases, the latest visits and the
    buttons this user may use (report a case, record a visit)."""
    from households.models import Role
    from households.selectors import user_roles

    from ..models import OPEN_STATES
    from ..views import _may_visit

    user = context["request"].user
    cases = list(household.cases.select_related("contact_person").order_by("-discovered_on", "-id"))
    has_open = any(c.state in OPEN_STATES for c in cases)
    path = household.village.path
    may_report = not has_open and any(
        r.role == Role.VILLAGE_CADRE and r.area_id and path.startswith(r.area.path) for r in user_roles(user)
    )
    # The latest three visits and, in the same query, how many there are (a window count is
    # taken over every row before the LIMIT).
    visits = list(household.visits.select_related("recorded_by").annotate(visits_total=Window(Count("pk")))[:3])
    return {
        "household": household,
        "cases": cases,
        "visits": visits,
        "visit_count": visits[0].visits_total if visits else 0,
        "may_report": may_report,
        "may_visit": _may_visit(user, household, cases),
    }
