"""Assistance's elimination criterion, named in `settings.FANPIN_ELIMINATION_CRITERIA` so the
workflow (monitoring) reads it without importing this layer (DOMAIN.md §5: "at least one
measure carried out")."""

import datetime

from monitoring.checklist import Criterion
from monitoring.county_settings import in_read_only_request
from monitoring.models import MonitoringCase

from .models import Measure
from .selectors import case_measures


def measure_carried_out(case: MonitoringCase, day: datetime.date) -> Criterion:
    """At least one measure carried out: in progress or done (planned or stopped ones do not count)."""
    if in_read_only_request():  # a page: the measures it reads anyway (assistance.selectors.case_measures)
        carried_out = sum(1 for m in case_measures(case) if m.status in Measure.CARRIED_OUT)
    else:
        carried_out = Measure.objects.filter(case=case, status__in=Measure.CARRIED_OUT).count()
    return Criterion("measures", "至少落实一项帮扶措施", carried_out > 0, f"已落实 {carried_out} 项")
