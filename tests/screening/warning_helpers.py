"""Department files of any layout, uploaded by the county officer through the real path (the
warning rules then run on commit, as on a deployment)."""

from households.models import Department, Member
from screening.layouts import layout_for
from tests import factories as f

from .helpers import csv_bytes, service_upload


def dept_file(kind, rows):
    """rows: dicts of column key -> value (ID number and name from a member or given)."""
    layout = layout_for(kind)
    header = [c.header for c in layout.all_columns]
    lines = []
    for row in rows:
        member = row.get("member")
        values = dict(row)
        if member is not None:
            values.setdefault("id_number", member.id_number)
            values.setdefault("name", member.name)
        lines.append([values.get(c.key, "") for c in layout.all_columns])
    return csv_bytes(lines, header=header)


def upload(world, kind, rows, period="2026-01", user=None):
    if not Department.objects.filter(county=world.county, kind=kind).exists():
        f.make_department(world.county, kind)
    return service_upload(user or world.county_officer, dept_file(kind, rows), kind=kind, period=period)


def head(household):
    return Member.objects.filter(household=household).order_by("pk").first()
