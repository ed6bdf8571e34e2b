"""Assistance's elimination criterion, named in `settings.FANPIN_ELIMINATION_CRITERIA` so the
workflow (monitoring) reads it without importing this layer (DOMAIN.md §5: "at least one
measure carried out")."""

import datetime

from monitoring.checklist import Criterion
from monitoring.models import MonitoringCase

from .models import Measure


def measure_carried_out(case: MonitoringCase, day: datetime.date) -> Criterion:
    """At least one measure carried out: in progress or done (planned or stopped ones do not count)."""
    carried_out = Measure.objects.filter(case=case, status__in=Measure.CARRIED_OUT).count()
    return Criterion("measures", "至少落实一项帮扶措施", carried_out > 0, f"已落实 {carried_out} 项")
