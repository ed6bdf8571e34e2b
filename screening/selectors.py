"""Who sees which uploads (DOMAIN.md §1, §6, §9).

Department staff see their own department's uploads: the counts and each row's outcome
(matched or not), never household details. County officers see every upload of their county.
Village and town see nothing of an upload (a warning raised in their area is how they learn of
a row). An upload of another department of the staff member's county is 403 (they know the
department exists); anything further is 404.
"""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from households import selectors as household_selectors
from households.models import Area, Department, Role

from .models import ScreeningBadRow, ScreeningRow, ScreeningUpload

RECENT_UPLOADS = 20


def department_staff_of(user: Any) -> list[Department]:
    return [
        r.department
        for r in household_selectors.user_roles(user)
        if r.role == Role.DEPARTMENT_STAFF and r.department is not None
    ]


def counties_of_officer(user: Any) -> list[Area]:
    return [
        r.area for r in household_selectors.user_roles(user) if r.role == Role.COUNTY_OFFICER and r.area is not None
    ]


def may_upload(user: Any) -> bool:
    return household_selectors.is_admin(user) or bool(department_staff_of(user) or counties_of_officer(user))


def departments_visible_to(user: Any) -> QuerySet[Department]:
    if not user.is_authenticated:
        return Department.objects.none()
    if household_selectors.is_admin(user):
        return Department.objects.all()
    own = [d.pk for d in department_staff_of(user)]
    counties = [a.pk for a in counties_of_officer(user)]
    return Department.objects.filter(Q(pk__in=own) | Q(county__in=counties))


def uploads_visible_to(user: Any) -> QuerySet[ScreeningUpload]:
    """Newest first, with the department (and its county) loaded."""
    return (
        ScreeningUpload.objects.filter(department__in=departments_visible_to(user))
        .select_related("department__county", "uploaded_by")
        .order_by("-created_at", "-pk")
    )


def upload_for(user: Any, pk: Any) -> ScreeningUpload:
    """The upload if the user may see it; 403 for another department of a staff member's
    county, 404 otherwise."""
    try:
        upload = uploads_visible_to(user).get(pk=pk)
    except (ScreeningUpload.DoesNotExist, ValueError, TypeError):
        own_counties = [d.county_id for d in department_staff_of(user)] if user.is_authenticated else []
        if own_counties and ScreeningUpload.objects.filter(pk=_int(pk), department__county__in=own_counties).exists():
            raise PermissionDenied("行业部门人员只能查看本部门的上传。") from None
        raise Http404("没有找到该上传，或您无权查看。") from None
    return upload


def bad_rows_of(upload: ScreeningUpload) -> QuerySet[ScreeningBadRow]:
    return upload.bad_rows.order_by("row", "pk")


def row_outcomes(upload: ScreeningUpload) -> QuerySet[ScreeningRow]:
    """What department staff may see of each of their rows: the line, the ID number they sent
    and whether it matched; no household, village or registry name."""
    return upload.rows.order_by("row_number").only("row_number", "id_number", "name", "member_id", "upload_id")


def current_rows(
    *, kind: str | None = None, period: datetime.date | None = None, county: Area | None = None
) -> QuerySet[ScreeningRow]:
    """The rows a rule reads: each department's current upload per month, never a file still
    being processed. Matched rows have member, household, village and town; `.unmatched()`
    gives the people in no household of the county (registration leads). Typed figures:
    amount (layout.amount), event_date, code; every column as text in `data`."""
    rows = ScreeningRow.objects.current()
    if kind:
        rows = rows.filter(department__kind=kind)
    if period:
        rows = rows.filter(period=period)
    if county is not None:
        rows = rows.filter(department__county=county)
    return rows


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
