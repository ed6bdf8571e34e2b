"""Plan services: adding, changing, progress, stopping — scoped, atomic, audited, nothing deleted."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from assistance import services
from assistance.forms import MeasureCreateForm
from assistance.models import Measure, MeasureProgress, MeasureType
from monitoring.models import CaseEvent, State
from monitoring.services import Conflict
from tests import factories as f
from tests.monitoring.cases import case_at

pytestmark = pytest.mark.usefixtures("on_plan_day")


def add(w, user=None, case=None, **fields):
    case = case or w.case
    data = {"measure_type": "medical_aid", "starts_on": "2026-03-11", **fields}
    form = MeasureCreateForm(data, case=case)
    assert form.is_valid(), form.errors
    return services.measure_create(user=user or w.contact, case_id=case.pk, data=form.cleaned_data)


def test_contact_person_adds_a_measure_recorded_on_the_case_timeline(w):
    measure = add(w, amount="3000", funding_source="医疗救助资金")
    assert measure.status == Measure.Status.PLANNED
    assert measure.created_by == w.contact
    event = CaseEvent.objects.filter(case=w.case, action="measure_added").get()
    assert event.label == "添加帮扶措施：医疗救助/医保资助"
    assert event.actor == w.contact
    assert event.payload["measure"] == measure.pk
    assert "3000" in event.comment
    assert measure.progress.get().to_status == Measure.Status.PLANNED


def test_cadres_of_the_place_may_plan_but_not_others(w):
    add(w, user=w.village_cadre, measure_type="public_job")
    add(w, user=w.county_officer, measure_type="dibao")
    with pytest.raises(Http404):
        add(w, user=w.village_cadre_b, measure_type="training")
    with pytest.raises(PermissionDenied):
        add(w, user=w.admin, measure_type="training")


def test_a_measure_on_a_case_not_monitored_is_a_conflict_with_the_reason(w):
    reported = case_at(w, State.COUNTY_REVIEW, household=f.make_household(w.village_a1))
    with pytest.raises(Conflict) as caught:
        add(w, user=w.village_cadre, case=reported)
    assert caught.value.reasons == [
        "监测对象当前状态为“县级审批”：只有监测帮扶中（或风险消除办理中）的对象才能添加帮扶措施。"
    ]
    assert not Measure.objects.filter(case=reported).exists()


def test_the_same_measure_submitted_twice_is_a_conflict(w):
    add(w)
    with pytest.raises(Conflict) as caught:
        add(w)
    assert "重复提交" in caught.value.message
    assert Measure.objects.filter(case=w.case).count() == 1


def test_a_disabled_type_cannot_be_added(w):
    MeasureType.objects.filter(code="insurance").update(active=False)
    form = MeasureCreateForm({"measure_type": "insurance", "starts_on": "2026-03-11"}, case=w.case)
    assert not form.is_valid()
    assert form.errors["measure_type"] == ["没有这个措施类型（或已停用），请从措施目录中选择。"]


def test_contact_person_must_come_from_the_case_pool(w):
    form = MeasureCreateForm(
        {"measure_type": "dibao", "starts_on": "2026-03-11", "contact_person": w.other_county_officer.pk}, case=w.case
    )
    assert not form.is_valid()
    assert "帮扶责任人须是本村、本乡镇或本县的干部" in form.errors["contact_person"][0]


def test_status_moves_forward_with_dated_notes_and_a_complete_history(w):
    measure = add(w)
    services.measure_progress(user=w.contact, measure_id=measure.pk, note="已提交救助申请", status="in_progress")
    services.measure_update(
        user=w.village_cadre,
        measure_id=measure.pk,
        changes={"amount": Decimal("4500"), "ends_on": datetime.date(2026, 6, 30)},
    )
    services.measure_progress(user=w.contact, measure_id=measure.pk, note="第一笔救助金已到账")
    services.measure_progress(user=w.contact, measure_id=measure.pk, note="救助金全部发放", status="done")
    history = list(measure.progress.order_by("at", "id"))
    assert [(p.author, p.from_status, p.to_status) for p in history] == [
        (w.contact, "", "planned"),
        (w.contact, "planned", "in_progress"),
        (w.village_cadre, "", ""),
        (w.contact, "", ""),
        (w.contact, "in_progress", "done"),
    ]
    assert history[2].changes == {"amount": [None, "4500.00"], "ends_on": [None, "2026-06-30"]}
    assert [p.note for p in history[3:]] == ["第一笔救助金已到账", "救助金全部发放"]
    actions = list(CaseEvent.objects.filter(case=w.case, action__startswith="measure").values_list("action", flat=True))
    assert actions == ["measure_added", "measure_status", "measure_updated", "measure_progress", "measure_status"]
    measure.refresh_from_db()
    assert (measure.status, measure.amount) == ("done", 4500)


def test_a_done_measure_cannot_go_back(w):
    measure = add(w, status="done")
    with pytest.raises(Conflict) as caught:
        services.measure_progress(user=w.contact, measure_id=measure.pk, note="重新开始", status="in_progress")
    assert caught.value.message == "该措施已完成，不能再改为“实施中”：如需继续帮扶，请另行添加措施。"


def test_a_wrong_measure_is_stopped_with_its_reason_never_deleted(w):
    measure = add(w, measure_type="dibao")
    with pytest.raises(ValidationError) as caught:
        services.measure_update(user=w.contact, measure_id=measure.pk, changes={}, status="stopped")
    assert caught.value.message_dict == {"note": ["终止措施请填写原因。"]}
    services.measure_stop(user=w.contact, measure_id=measure.pk, reason="录入错误：该户不符合低保条件")
    measure.refresh_from_db()
    assert measure.status == "stopped"
    assert measure.stop_reason == "录入错误：该户不符合低保条件"
    assert CaseEvent.objects.filter(case=w.case, action="measure_stopped").get().comment == measure.stop_reason
    with pytest.raises(Conflict):
        services.measure_progress(user=w.contact, measure_id=measure.pk, note="继续")
    # Stopped, the same type may be planned again from the same day.
    add(w, measure_type="dibao")
    assert Measure.objects.filter(case=w.case).count() == 2


def test_the_measure_type_cannot_be_changed(w):
    measure = add(w)
    with pytest.raises(ValidationError) as caught:
        services.measure_update(user=w.contact, measure_id=measure.pk, changes={"measure_type": "dibao"})
    assert "措施类型不能修改" in caught.value.message_dict["measure_type"][0]


def test_the_person_carrying_a_measure_may_update_it_outside_the_case_scope(w):
    measure = add(w, contact_person=w.town_official.pk)
    services.measure_progress(user=w.town_official, measure_id=measure.pk, note="已对接", status="in_progress")
    with pytest.raises(Http404):
        services.measure_progress(user=w.village_cadre_b, measure_id=measure.pk, note="越权")
    assert MeasureProgress.objects.filter(measure=measure).count() == 2


def test_the_same_progress_note_tapped_twice_is_a_conflict(w):
    measure = add(w)
    services.measure_progress(user=w.contact, measure_id=measure.pk, note="已入户宣传政策")
    with pytest.raises(Conflict):
        services.measure_progress(user=w.contact, measure_id=measure.pk, note="已入户宣传政策")
    assert measure.progress.count() == 2
