"""Assistance measures for the demo county's monitored cases (called by fanpin/demo.py between
monitoring's two phases: after the cases are determined, before the elimination steps)."""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from households.models import Department
from monitoring.models import MonitoringCase, RiskType

from .models import Measure

SEED = 20240716

# The measure that answers each primary risk in the demo, and the department that carries it.
MEASURE_FOR_RISK = {
    RiskType.ILLNESS: (Measure.Type.MEDICAL_AID, Department.Kind.MEDICAL_INSURANCE),
    RiskType.DISABILITY: (Measure.Type.PUBLIC_WELFARE_JOB, Department.Kind.HUMAN_RESOURCES),
    RiskType.EDUCATION: (Measure.Type.EDUCATION_AID, Department.Kind.EDUCATION),
    RiskType.DISASTER: (Measure.Type.TEMPORARY_RELIEF, Department.Kind.EMERGENCY),
    RiskType.ACCIDENT: (Measure.Type.TEMPORARY_RELIEF, Department.Kind.CIVIL_AFFAIRS),
    RiskType.EMPLOYMENT: (Measure.Type.EMPLOYMENT, Department.Kind.HUMAN_RESOURCES),
    RiskType.INDUSTRY: (Measure.Type.INDUSTRY, Department.Kind.RURAL_REVITALIZATION),
    RiskType.HOUSING: (Measure.Type.HOUSING, Department.Kind.HOUSING),
    RiskType.WATER: (Measure.Type.WATER, Department.Kind.WATER),
}


def seed_measures(*, county, cases, eliminating=(), today=None):
    """One measure per monitored case (ids in `cases`), answering its primary risk; carried out
    (done) for the cases going on to elimination (`eliminating`), in progress for the others.
    Return how many were created."""
    today = today or timezone.localdate()
    rng = random.Random(SEED)
    departments = {d.kind: d for d in Department.objects.filter(county=county)}
    eliminating = set(eliminating)
    created = 0
    with transaction.atomic():
        for case in MonitoringCase.objects.filter(pk__in=list(cases)).order_by("pk"):
            done = case.pk in eliminating
            kind, department = MEASURE_FOR_RISK.get(
                case.primary_risk, (Measure.Type.SOCIAL_AID, Department.Kind.RURAL_REVITALIZATION)
            )
            starts = case.determined_on + datetime.timedelta(days=7)
            Measure.objects.create(
                case=case,
                measure_type=kind,
                department=departments.get(department),
                contact_person=case.contact_person,
                starts_on=min(starts, today),
                ends_on=starts + datetime.timedelta(days=150) if done else None,
                amount=Decimal(rng.randrange(2000, 20000, 500)),
                status=Measure.Status.DONE if done else Measure.Status.IN_PROGRESS,
                outcome="措施已落实，家庭收入恢复稳定。" if done else "",
            )
            created += 1
    return created


def wipe_measures(county):
    """Remove the demo county's measures (`seed_demo --reset`), before its cases."""
    Measure.objects.filter(case__household__village__path__startswith=county.path).delete()
