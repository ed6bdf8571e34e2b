import datetime

import pytest
import time_machine

from assistance.models import Measure
from monitoring import services
from monitoring.models import MonitoringLine, State
from tests import factories as f


def test_full_path_through_services(world):
    w = world
    with time_machine.travel(datetime.datetime(2026, 3, 2, 10), tick=False):
        case = services.case_create(user=w.village_cadre, household=w.household_a1, channel="cadre_visit",
                                    discovered_on=datetime.date(2026, 3, 1), reason="户主突发大病")
        services.case_transition(user=w.village_cadre, case_id=case.pk, name="start_appraisal", data={
            "home_check_on": "2026-03-02", "home_checkers": "张三、李四", "commitment_signed_on": "2026-03-02"})
        case = services.case_transition(user=w.village_cadre, case_id=case.pk, name="publish_notice", data={
            "appraisal_on": "2026-03-02", "appraisal_attendance": 12, "appraisal_result": "approved",
            "appraisal_minutes": "一致同意", "notice_start": "2026-03-02"})
        assert case.state == State.PUBLIC_NOTICE and case.notice_end == datetime.date(2026, 3, 6)
        with pytest.raises(services.Conflict):
            services.case_transition(user=w.village_cadre, case_id=case.pk, name="close_notice", data={})
    with time_machine.travel(datetime.datetime(2026, 3, 7, 10), tick=False):
        services.case_transition(user=w.village_cadre, case_id=case.pk, name="close_notice", data={})
        services.case_transition(user=w.town_official, case_id=case.pk, name="town_approve", data={"comment": "属实"})
        case = services.case_transition(user=w.county_officer, case_id=case.pk, name="county_approve", data={
            "category": "sudden", "primary_risk": "illness", "secondary_risks": ["disability"],
            "document_number": "清乡振〔2026〕3号"})
        assert case.state == State.MONITORED
    MonitoringLine.objects.create(county=w.county, year=2026, amount=8000)
    f.make_income(w.household_a1, year=2026, wage_income=60000)
    Measure.objects.create(case=case, measure_type="medical_aid", status="done")
    with time_machine.travel(datetime.datetime(2026, 10, 7, 10), tick=False):
        case = services.case_transition(user=w.village_cadre, case_id=case.pk, name="propose_elimination", data={})
        assert case.state == State.ELIMINATION_APPRAISAL
