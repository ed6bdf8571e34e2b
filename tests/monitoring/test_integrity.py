"""The workflow under inspection (issue 7): each rule through the service, the API and the page.

Point 1 criteria at every elimination step · point 2 dates · point 3 自然减少 · point 4 the
admin and deletion · point 7 a negative appraisal · point 8 the category against the registry.
"""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from assistance.models import Measure
from households.models import Household, IncomeRecord, Member
from monitoring import selectors, services
from monitoring.models import CaseEvent, MonitoringCase, MonitoringLine, Objection, RecordProtected, State, Visit
from screening import asset_services
from tests import factories as f
from tests.monitoring.cases import (
    APPRAISAL,
    COUNTY_APPROVAL,
    CST,
    HOME_CHECK,
    T_ELIM,
    T_ELIM_REVIEW,
    T_LATE,
    T_REPORT,
    T_REVIEW,
    advance,
    case_at,
    make_eligible,
    report,
    step_files,
)

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(pk=user.pk))
    return client


def page(client, user):
    client.force_login(user)
    return client


def at(when):
    return time_machine.travel(when, tick=False)


def take(user, case, name, data=None, when=T_LATE):
    with at(when):
        return services.case_transition(user=user, case_id=case.pk, name=name, data=dict(data or {}))


def events(case):
    return CaseEvent.objects.filter(case=case).count()


# --- point 1: every elimination step re-checks the criteria ------------------------------------


@pytest.mark.parametrize(
    "state, name, actor, when",
    [
        (State.ELIMINATION_APPRAISAL, "publish_elimination_notice", "village_cadre", T_ELIM),
        (State.ELIMINATION_NOTICE, "close_elimination_notice", "village_cadre", T_ELIM_REVIEW),
        (State.ELIMINATION_TOWN_REVIEW, "town_accept_elimination", "town_official", T_ELIM_REVIEW),
        (State.ELIMINATION_COUNTY_REVIEW, "county_approve_elimination", "county_officer", T_ELIM_REVIEW),
    ],
)
def test_no_labour_capacity_after_the_proposal_refuses_every_later_elimination_step(world, state, name, actor, when):
    w = world
    case = case_at(w, state)
    w.household_a1.members.update(labour_capacity=Member.Labour.LOST)
    before = events(case)
    data = {"comment": "验收合格", "reason": "stable"}
    with at(when), pytest.raises(services.Conflict) as exc:
        services.case_transition(user=getattr(w, actor), case_id=case.pk, name=name, data=data)
    assert exc.value.reasons == ["该户没有劳动能力成员：落实兜底保障措施后不标注风险消除，继续跟踪监测。"]
    assert "退回继续监测" in exc.value.message
    assert events(case) == before and MonitoringCase.objects.get(pk=case.pk).state == state
    # The way back stays open.
    with at(when):
        assert "elimination_return" in services.available_transitions(case, getattr(w, actor))


def test_income_and_a_danger_house_recorded_after_the_proposal_refuse_town_acceptance_and_county_approval(world):
    w = world
    case = case_at(w, State.ELIMINATION_TOWN_REVIEW)
    IncomeRecord.objects.filter(household=w.household_a1, year=2026).update(
        per_capita_net_income=Decimal("33.33"), medical_expense=Decimal("50581")
    )
    w.household_a1.housing_secure = False
    w.household_a1.save()
    with at(T_ELIM_REVIEW), pytest.raises(services.Conflict) as exc:
        services.case_transition(
            user=w.town_official, case_id=case.pk, name="town_accept_elimination", data={"comment": "验收"}
        )
    (reason,) = exc.value.reasons
    assert "人均纯收入稳定高于监测线" in reason and "大额刚性支出已解决" in reason and "住房安全" in reason


def test_the_api_answers_409_with_the_reasons_and_offers_elimination_return(world):
    w = world
    case = case_at(w, State.ELIMINATION_COUNTY_REVIEW)
    Measure.objects.filter(case=case).update(status=Measure.Status.STOPPED)
    with at(T_ELIM_REVIEW):
        response = api(w.county_officer).post(
            f"/api/cases/{case.pk}/transitions/county_approve_elimination/", {"reason": "stable"}, format="json"
        )
    assert response.status_code == 409
    body = response.json()
    assert body["reasons"] == ["风险消除条件未全部满足：至少落实一项帮扶措施（已落实 0 项）。"]
    assert (
        "elimination_return" in body["available_transitions"]
        and "county_approve_elimination" not in body["available_transitions"]
    )
    assert MonitoringCase.objects.get(pk=case.pk).state == State.ELIMINATION_COUNTY_REVIEW


def test_the_page_shows_the_failing_criterion_and_keeps_the_return_button(client, world):
    w = world
    case = case_at(w, State.ELIMINATION_APPRAISAL)
    Measure.objects.filter(case=case).update(status=Measure.Status.PLANNED)
    with at(T_ELIM):
        response = page(client, w.village_cadre).get(reverse("monitoring:case-detail", args=[case.pk]))
        posted = client.post(
            reverse("monitoring:case-action", args=[case.pk, "publish_elimination_notice"]),
            {"notice_start": "2026-10-12"},
        )
    text = response.content.decode()
    assert "至少落实一项帮扶措施（已落实 0 项）" in text
    assert reverse("monitoring:case-action", args=[case.pk, "elimination_return"]) in text
    assert "至少落实一项帮扶措施" in posted.content.decode()
    assert MonitoringCase.objects.get(pk=case.pk).state == State.ELIMINATION_APPRAISAL


# --- point 2: dates between the previous step and today --------------------------------------------


def test_a_notice_cannot_start_before_its_appraisal_or_in_the_future(world):
    w = world
    case = case_at(w, State.VILLAGE_APPRAISAL)
    with pytest.raises(ValidationError) as exc:
        take(w.village_cadre, case, "publish_notice", {**APPRAISAL, "notice_start": "2026-03-01"}, when=T_REPORT)
    assert exc.value.message_dict == {"notice_start": ["公示开始日期不能早于民主评议日期（2026-03-02）。"]}
    with pytest.raises(ValidationError) as exc:
        take(w.village_cadre, case, "publish_notice", {**APPRAISAL, "notice_start": "2026-03-05"}, when=T_REPORT)
    assert exc.value.message_dict == {"notice_start": ["公示开始日期不能晚于今天。"]}
    with pytest.raises(ValidationError) as exc:
        take(w.village_cadre, case, "publish_notice", {**APPRAISAL, "appraisal_on": "2026-02-27"}, when=T_REPORT)
    assert "民主评议日期不能早于" in exc.value.message_dict["appraisal_on"][0]
    assert MonitoringCase.objects.get(pk=case.pk).state == State.VILLAGE_APPRAISAL and events(case) == 2


@pytest.mark.parametrize(
    "name, state, data, field, message",
    [
        (
            "start_appraisal",
            State.REPORTED,
            {**HOME_CHECK, "home_check_on": "2027-01-01"},
            "home_check_on",
            "入户核实日期不能晚于今天。",
        ),
        (
            "start_appraisal",
            State.REPORTED,
            {**HOME_CHECK, "commitment_signed_on": "2026-02-01"},
            "commitment_signed_on",
            "承诺授权书签署日期不能早于发现日期（2026-03-01）。",
        ),
        (
            "town_approve",
            State.TOWN_REVIEW,
            {"comment": "属实", "reviewed_on": "2026-03-05"},
            "reviewed_on",
            "审核日期不能早于公示期满后一日（2026-03-07）。",
        ),
        (
            "county_approve",
            State.COUNTY_REVIEW,
            {**COUNTY_APPROVAL, "determined_on": "2024-05-01"},
            "determined_on",
            "认定日期不能早于发现日期（2026-03-01）。",
        ),
        (
            "county_approve",
            State.COUNTY_REVIEW,
            {**COUNTY_APPROVAL, "determined_on": "2027-03-01"},
            "determined_on",
            "认定日期不能晚于今天。",
        ),
        (
            "propose_elimination",
            State.MONITORED,
            {"appraisal_on": "2026-03-08"},
            "appraisal_on",
            "消除评议日期不能早于认定日期（2026-03-09）。",
        ),
        (
            "town_accept_elimination",
            State.ELIMINATION_TOWN_REVIEW,
            {"comment": "验收", "reviewed_on": "2027-01-05"},
            "reviewed_on",
            "验收日期不能晚于今天。",
        ),
        (
            "county_approve_elimination",
            State.ELIMINATION_COUNTY_REVIEW,
            {"reason": "stable", "eliminated_on": "2026-10-18"},
            "eliminated_on",
            "风险消除日期不能早于乡镇验收日期（2026-10-19）。",
        ),
    ],
)
def test_each_step_date_lies_between_the_step_it_follows_and_today(world, name, state, data, field, message):
    w = world
    case = case_at(w, state)
    if state == State.MONITORED:
        make_eligible(w, case)
    actor = {"town_approve": "town_official", "town_accept_elimination": "town_official"}.get(name)
    actor = actor or ("county_officer" if name.startswith("county") else "village_cadre")
    before = events(case)
    with at(T_LATE), pytest.raises(ValidationError) as exc:
        services.case_transition(user=getattr(w, actor), case_id=case.pk, name=name, data=dict(data))
    assert exc.value.message_dict == {field: [message]}
    assert events(case) == before and MonitoringCase.objects.get(pk=case.pk).state == state


def test_the_api_and_the_page_refuse_a_back_dated_step_with_the_field_error(client, world):
    w = world
    case = case_at(w, State.COUNTY_REVIEW)
    with at(T_REVIEW):
        response = api(w.county_officer).post(
            f"/api/cases/{case.pk}/transitions/county_approve/",
            {**COUNTY_APPROVAL, "determined_on": "2024-05-01"},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["determined_on"] == ["认定日期不能早于发现日期（2026-03-01）。"]
        posted = page(client, w.county_officer).post(
            reverse("monitoring:case-action", args=[case.pk, "county_approve"]),
            {**COUNTY_APPROVAL, "determined_on": "2024-05-01"},
        )
    assert posted.status_code == 200 and "认定日期不能早于发现日期（2026-03-01）。" in posted.content.decode()
    assert MonitoringCase.objects.get(pk=case.pk).state == State.COUNTY_REVIEW


def test_a_report_cannot_be_dated_in_the_future_through_the_service(world):
    with at(T_REPORT), pytest.raises(ValidationError) as exc:
        services.case_create(
            user=world.village_cadre,
            household=world.household_a1,
            channel="cadre_visit",
            discovered_on=datetime.date(2026, 3, 3),
            reason="突发大病",
        )
    assert exc.value.message_dict == {"discovered_on": ["发现日期不能晚于今天。"]}


def test_a_chain_of_back_dated_steps_does_not_shorten_the_elimination_wait(world):
    """Reported today with a discovery in 2025 and every step dated then: the six months count
    from the day the determination was recorded, not from the date written on it."""
    w = world
    today = datetime.datetime(2026, 3, 20, 10, tzinfo=CST)
    with at(today):
        case = services.case_create(
            user=w.village_cadre,
            household=w.household_a1,
            channel="cadre_visit",
            discovered_on=datetime.date(2025, 1, 1),
            reason="户主突发大病",
        )
        for user, name, data in [
            (
                w.village_cadre,
                "start_appraisal",
                {**HOME_CHECK, "home_check_on": "2025-01-02", "commitment_signed_on": "2025-01-02"},
            ),
            (
                w.village_cadre,
                "publish_notice",
                {**APPRAISAL, "appraisal_on": "2025-01-03", "notice_start": "2025-01-03"},
            ),
            (w.village_cadre, "close_notice", {}),
            (w.town_official, "town_approve", {"comment": "属实", "reviewed_on": "2025-01-08"}),
            (w.county_officer, "county_approve", {**COUNTY_APPROVAL, "determined_on": "2025-01-10"}),
        ]:
            if name == "county_approve":
                asset_services.asset_comparison_record(user=w.county_officer, case_id=case.pk, result="none_found")
            case = services.case_transition(user=user, case_id=case.pk, name=name, data=data, files=step_files(name))
    assert case.determined_on == datetime.date(2025, 1, 10)
    assert case.determination_recorded_on == datetime.date(2026, 3, 20)
    make_eligible(w, case)
    with at(datetime.datetime(2026, 8, 1, 10, tzinfo=CST)):
        months = next(c for c in case.elimination_criteria() if c.code == "months")
        with pytest.raises(services.Conflict):
            services.case_transition(user=w.village_cadre, case_id=case.pk, name="propose_elimination", data={})
    assert not months.met


# --- point 2: the historical path ---------------------------------------------------------------


HISTORICAL = {
    "channel": "cadre_visit",
    "discovered_on": "2024-04-01",
    "reason": "2024 年因病认定",
    "category": "edge",
    "primary_risk": "illness",
    "determined_on": "2024-04-12",
    "document_number": "示乡振〔2024〕7号",
}


def test_a_county_officer_brings_in_a_historical_case_with_its_document_number_audited(world):
    w = world
    with at(T_REPORT):
        response = api(w.county_officer).post(
            "/api/cases/historical/", {**HISTORICAL, "household": w.household_a1.pk}, format="json"
        )
    assert response.status_code == 201, response.json()
    case = MonitoringCase.objects.get(pk=response.json()["id"])
    assert (case.state, case.historical, case.document_number) == (State.MONITORED, True, "示乡振〔2024〕7号")
    event = case.events.get()
    assert (event.action, event.label, event.from_state, event.to_state, event.actor) == (
        "import_historical",
        "补录历史监测对象",
        "",
        State.MONITORED,
        w.county_officer,
    )
    assert event.payload["document_number"] == "示乡振〔2024〕7号"
    # The wait counts from the original determination: eligible now on that criterion.
    with at(T_REPORT):
        assert next(c for c in case.elimination_criteria() if c.code == "months").met


def test_only_a_county_officer_of_the_county_may_bring_in_a_historical_case_and_it_needs_the_document(world):
    w = world
    with at(T_REPORT):
        assert (
            api(w.village_cadre)
            .post("/api/cases/historical/", {**HISTORICAL, "household": w.household_a1.pk}, format="json")
            .status_code
            == 403
        )
        other = f.user_with_role("other_county_officer", "county_officer", area=w.other_county)
        assert (
            api(other)
            .post("/api/cases/historical/", {**HISTORICAL, "household": w.household_a1.pk}, format="json")
            .status_code
            == 404
        )
        missing = api(w.county_officer).post(
            "/api/cases/historical/",
            {**HISTORICAL, "household": w.household_a1.pk, "document_number": "", "determined_on": "2026-03-02"},
            format="json",
        )
    assert missing.status_code == 400
    assert not MonitoringCase.objects.exists()


def test_the_command_brings_in_historical_cases_row_by_row(world, tmp_path):
    w = world
    path = tmp_path / "cases.csv"
    path.write_text(
        "户编号,发现渠道,发现日期,申报理由,监测对象类别,主要风险类型,次要风险类型,认定日期,认定文号\n"
        f"{w.household_a1.number},cadre_visit,2024-04-01,因病,edge,illness,disability,2024-04-12,示乡振〔2024〕7号\n"
        f"{w.household_other.number},cadre_visit,2024-04-01,因病,edge,illness,,2024-04-12,示乡振〔2024〕7号\n",
        encoding="utf-8-sig",
    )
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_historical_cases", str(path), "--user", w.county_officer.username, stdout=out)
    assert "已补录" in out.getvalue() and "失败 1 行" in out.getvalue()
    case = MonitoringCase.objects.get()
    assert case.household == w.household_a1 and case.secondary_risks == ["disability"] and case.historical


# --- point 3: 自然减少 only when the household is dissolved ----------------------------------------


def test_close_is_refused_while_members_live_in_the_household(world):
    w = world
    case = case_at(w, State.MONITORED)
    with pytest.raises(services.Conflict) as exc:
        take(w.county_officer, case, "close", {"comment": "随便关闭"})
    assert exc.value.reasons[0].startswith("该户仍有 3 名在户成员，不能按自然减少处理")
    members = list(w.household_a1.members.all())
    Member.objects.filter(pk__in=[m.pk for m in members[:2]]).update(status=Member.Status.DECEASED)
    with pytest.raises(services.Conflict):
        take(w.county_officer, case, "close", {"comment": "两人去世"})
    Member.objects.filter(pk=members[2].pk).update(status=Member.Status.MOVED_OUT)
    case = take(w.county_officer, case, "close", {"comment": "全户均已死亡或迁出"})
    assert case.state == State.CLOSED


def test_close_of_a_household_merged_into_another_records_it(world):
    w = world
    case = case_at(w, State.MONITORED)
    other = f.make_household(w.village_a2)
    with pytest.raises(ValidationError) as exc:
        take(w.county_officer, case, "close", {"comment": "并户", "merged_into": w.household_other.number})
    assert exc.value.message_dict == {"merged_into": ["并入农户须是本县登记的农户。"]}
    case = take(w.county_officer, case, "close", {"comment": "并入亲属户", "merged_into": other.number})
    assert case.state == State.CLOSED and case.merged_into == other
    assert case.events.get(action="close").payload["merged_into"] == other.number


def test_close_through_the_api_and_the_page_is_refused_with_the_reason(client, world):
    w = world
    case = case_at(w, State.MONITORED)
    with at(T_LATE):
        response = api(w.county_officer).post(
            f"/api/cases/{case.pk}/transitions/close/", {"comment": "迁出"}, format="json"
        )
        posted = page(client, w.county_officer).post(
            reverse("monitoring:case-action", args=[case.pk, "close"]), {"comment": "迁出"}
        )
    assert response.status_code == 409 and "在户成员" in response.json()["reasons"][0]
    assert posted.status_code == 200 and "不能按自然减少处理" in posted.content.decode()
    assert MonitoringCase.objects.get(pk=case.pk).state == State.MONITORED


# --- point 4: the admin and deletion ------------------------------------------------------------


@pytest.fixture
def superuser(client, world):
    user = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_the_admin_shows_workflow_facts_read_only_and_a_post_changes_nothing(superuser, world):
    w = world
    case = case_at(w, State.MONITORED)
    url = reverse("admin:monitoring_monitoringcase_change", args=[case.pk])
    text = superuser.get(url).content.decode()
    assert 'name="determined_on"' not in text and 'name="document_number"' not in text
    response = superuser.post(url, {"determined_on": "2024-01-01", "document_number": "改"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert (
        case.determined_on == datetime.date(2026, 3, 9) and case.document_number == COUNTY_APPROVAL["document_number"]
    )


def test_nothing_of_a_case_record_can_be_deleted_in_the_admin(superuser, world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    with at(T_REPORT):
        objection = services.objection_record(
            user=w.village_cadre, case_id=case.pk, raised_by="王五", raised_on=datetime.date(2026, 3, 2), content="有车"
        )
        visit = services.visit_create(
            user=w.village_cadre, household=w.household_a1, visitors="张三、李四", visited_on=datetime.date(2026, 3, 2)
        )
    measure = Measure.objects.create(case=case, measure_type_id="medical_aid")
    for model, obj in [
        ("monitoringcase", case),
        ("objection", objection),
        ("visit", visit),
        ("caseevent", case.events.first()),
    ]:
        assert superuser.get(reverse(f"admin:monitoring_{model}_delete", args=[obj.pk])).status_code == 403, model
        assert (
            superuser.post(reverse(f"admin:monitoring_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code
            == 403
        )
    assert (
        superuser.post(reverse("admin:assistance_measure_delete", args=[measure.pk]), {"post": "yes"}).status_code
        == 403
    )
    changelist = superuser.post(
        reverse("admin:monitoring_objection_changelist"),
        {"action": "delete_selected", "_selected_action": [objection.pk]},
    )
    assert changelist.status_code in (200, 302)
    assert Objection.objects.filter(pk=objection.pk).exists() and Visit.objects.filter(pk=visit.pk).exists()
    assert MonitoringCase.objects.filter(pk=case.pk).exists() and Measure.objects.filter(pk=measure.pk).exists()


def test_the_models_refuse_to_delete_any_part_of_a_case_record(world):
    w = world
    case = case_at(w, State.MONITORED)
    measure = Measure.objects.create(case=case, measure_type_id="medical_aid")
    for obj in (case, case.events.first(), measure):
        with pytest.raises(RecordProtected):
            obj.delete()
    for queryset in (MonitoringCase.objects.all(), CaseEvent.objects.all(), Measure.objects.all(), Visit.objects.all()):
        with pytest.raises(RecordProtected):
            queryset.delete()
    with pytest.raises(Exception):  # noqa: B017 - PROTECT (cases keep their household)
        Household.objects.filter(pk=w.household_a1.pk).delete()
    assert MonitoringCase.objects.filter(pk=case.pk).exists() and case.events.count() == 7  # 6 steps, 1 comparison


def test_the_api_has_no_delete_for_cases_objections_or_visits(world):
    w = world
    case = case_at(w, State.PUBLIC_NOTICE)
    with at(T_REPORT):
        objection = services.objection_record(
            user=w.village_cadre, case_id=case.pk, raised_by="王五", raised_on=datetime.date(2026, 3, 2), content="有车"
        )
        visit = services.visit_create(
            user=w.village_cadre, household=w.household_a1, visitors="张三、李四", visited_on=datetime.date(2026, 3, 2)
        )
    client = api(w.county_officer)
    for url in (f"/api/cases/{case.pk}/", f"/api/objections/{objection.pk}/", f"/api/visits/{visit.pk}/"):
        assert client.delete(url).status_code == 405, url


# --- point 7: a negative appraisal through the API and the page -----------------------------------


def test_a_negative_appraisal_through_the_api_and_the_page_ends_the_case_keeping_the_minutes(client, world):
    w = world
    first = case_at(w, State.VILLAGE_APPRAISAL)
    second = case_at(w, State.VILLAGE_APPRAISAL, household=f.make_household(w.village_a1))
    negative = {**APPRAISAL, "appraisal_result": "rejected", "appraisal_minutes": "多数代表不同意：有稳定经营收入"}
    with at(T_REPORT):
        response = api(w.village_cadre).post(
            f"/api/cases/{first.pk}/transitions/publish_notice/", negative, format="json"
        )
        posted = page(client, w.village_cadre).post(
            reverse("monitoring:case-action", args=[second.pk, "publish_notice"]), negative
        )
    assert response.status_code == 200 and response.json()["state"] == State.REJECTED
    assert response.json()["appraisal_minutes"] == "多数代表不同意：有稳定经营收入"
    assert posted.status_code == 302
    second.refresh_from_db()
    assert second.state == State.REJECTED and second.appraisal_attendance == 15


# --- point 8: the category against the registry -------------------------------------------------------


def test_an_ordinary_household_cannot_be_determined_as_unstable_formerly_poor(world):
    w = world
    case = case_at(w, State.COUNTY_REVIEW)
    with pytest.raises(ValidationError) as exc:
        take(w.county_officer, case, "county_approve", {**COUNTY_APPROVAL, "category": "unstable"}, when=T_REVIEW)
    assert exc.value.message_dict == {"category": ["脱贫不稳定户只适用于登记为脱贫户的农户，该户为一般农户。"]}


def test_a_formerly_poor_household_is_not_an_edge_household(world):
    w = world
    Household.objects.filter(pk=w.household_a1.pk).update(household_type=Household.Type.FORMERLY_POOR)
    case = case_at(w, State.COUNTY_REVIEW)
    with pytest.raises(ValidationError) as exc:
        take(w.county_officer, case, "county_approve", {**COUNTY_APPROVAL, "category": "edge"}, when=T_REVIEW)
    assert "不能认定为边缘易致贫户" in exc.value.message_dict["category"][0]
    case = take(w.county_officer, case, "county_approve", {**COUNTY_APPROVAL, "category": "unstable"}, when=T_REVIEW)
    assert case.category == "unstable"


def test_income_above_the_line_needs_the_hardship_that_justifies_sudden_severe_hardship(client, world):
    w = world
    case = case_at(w, State.COUNTY_REVIEW)
    MonitoringLine.objects.create(county=w.county, year=2025, amount=Decimal("7800"))
    record = f.make_income(w.household_a1, year=2025, wage_income=38430)  # 12,810 per person
    with pytest.raises(ValidationError) as exc:
        take(w.county_officer, case, "county_approve", {**COUNTY_APPROVAL, "category": "edge"}, when=T_REVIEW)
    assert exc.value.message_dict["category"][0].startswith(
        "2025 年人均纯收入 12810.00 元，高于监测线 7800.00 元，不在监测范围内"
    )
    with at(T_REVIEW):
        response = api(w.county_officer).post(
            f"/api/cases/{case.pk}/transitions/county_approve/",
            {**COUNTY_APPROVAL, "category": "sudden"},
            format="json",
        )
    assert response.status_code == 400 and "不符合突发严重困难户认定条件" in response.json()["category"][0]
    IncomeRecord.objects.filter(pk=record.pk).update(medical_expense=Decimal("30000"))
    case = take(w.county_officer, case, "county_approve", {**COUNTY_APPROVAL, "category": "sudden"}, when=T_REVIEW)
    assert case.state == State.MONITORED and case.category == "sudden"


def test_the_notice_cannot_list_a_category_the_registry_contradicts(client, world):
    w = world
    case = case_at(w, State.VILLAGE_APPRAISAL)
    with at(T_REPORT):
        posted = page(client, w.village_cadre).post(
            reverse("monitoring:case-action", args=[case.pk, "publish_notice"]), {**APPRAISAL, "category": "unstable"}
        )
    assert posted.status_code == 200 and "脱贫不稳定户只适用于登记为脱贫户的农户" in posted.content.decode()
    assert MonitoringCase.objects.get(pk=case.pk).state == State.VILLAGE_APPRAISAL


def test_advance_helper_still_reaches_every_state(world):
    case = advance(world, report(world), State.ELIMINATED)
    assert case.state == State.ELIMINATED


# --- point 9: deadlines that do not reset; overdue visits in the API -------------------------------


def test_a_report_after_a_withdrawal_within_the_window_keeps_the_discovery_date(world):
    w = world
    first = report(w)  # discovered 1 Mar 2026
    take(
        w.village_cadre, first, "withdraw", {"comment": "农户撤回"}, when=datetime.datetime(2026, 3, 20, 10, tzinfo=CST)
    )
    with at(datetime.datetime(2026, 4, 1, 10, tzinfo=CST)):
        again = services.case_create(
            user=w.village_cadre,
            household=w.household_a1,
            channel="cadre_visit",
            discovered_on=datetime.date(2026, 4, 1),
            reason="再次申报",
        )
        deadline = selectors.deadline(again)
    assert again.previous_case == MonitoringCase.objects.get(pk=first.pk)
    assert again.discovered_on == datetime.date(2026, 3, 1)
    assert deadline.overdue and deadline.date == datetime.date(2026, 3, 16)
    event = again.events.get()
    assert event.payload["previous_case"] == first.pk and event.payload["reported_discovered_on"] == "2026-04-01"
    assert "沿用原发现日期 2026-03-01" in event.label


def test_a_report_after_the_window_starts_afresh_and_the_window_is_a_county_setting(world):
    w = world
    from monitoring.models import CountySettings

    CountySettings.objects.create(county=w.county, effective_from=datetime.date(2026, 1, 1), re_report_window_days=30)
    first = report(w)
    take(
        w.village_cadre, first, "withdraw", {"comment": "农户撤回"}, when=datetime.datetime(2026, 3, 20, 10, tzinfo=CST)
    )
    with at(datetime.datetime(2026, 4, 25, 10, tzinfo=CST)):
        response = api(w.village_cadre).post(
            "/api/cases/",
            {
                "household": w.household_a1.pk,
                "channel": "cadre_visit",
                "discovered_on": "2026-04-25",
                "reason": "再次申报",
            },
            format="json",
        )
    assert response.status_code == 201
    again = MonitoringCase.objects.get(pk=response.json()["id"])
    assert again.previous_case is None and again.discovered_on == datetime.date(2026, 4, 25)


def test_a_re_report_through_the_page_links_to_the_withdrawn_case(client, world):
    w = world
    first = report(w)
    take(
        w.village_cadre, first, "withdraw", {"comment": "农户撤回"}, when=datetime.datetime(2026, 3, 20, 10, tzinfo=CST)
    )
    with at(datetime.datetime(2026, 4, 1, 10, tzinfo=CST)):
        response = page(client, w.village_cadre).post(
            reverse("monitoring:case-create"),
            {
                "household": w.household_a1.pk,
                "channel": "cadre_visit",
                "discovered_on": "2026-04-01",
                "reason": "再次申报",
            },
        )
    assert response.status_code == 302
    again = MonitoringCase.objects.exclude(pk=first.pk).get()
    assert again.previous_case_id == first.pk and again.discovered_on == datetime.date(2026, 3, 1)


def test_overdue_visits_are_in_the_api_scoped_like_cases(world):
    w = world
    late = case_at(w, State.MONITORED)  # determined 9 Mar, never visited
    visited = case_at(w, State.MONITORED, household=f.make_household(w.village_a1))
    with at(datetime.datetime(2026, 4, 20, 10, tzinfo=CST)):
        services.visit_create(
            user=w.village_cadre,
            household=visited.household,
            visitors="张三、李四",
            visited_on=datetime.date(2026, 4, 15),
        )
        response = api(w.village_cadre).get("/api/visits/overdue/")
        outside = api(w.village_cadre_b).get("/api/visits/overdue/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [late.pk]
    assert (rows[0]["last_visit_on"], rows[0]["visit_due_on"], rows[0]["days_overdue"]) == (None, "2026-04-08", 12)
    assert outside.json()["results"] == []


# --- point 6: the home check by two different people, the commitment's scan ------------------------


def start(w, case, data, files=None, user=None):
    with at(T_REPORT):
        return services.case_transition(
            user=user or w.village_cadre, case_id=case.pk, name="start_appraisal", data=data, files=files
        )


def test_the_same_name_twice_is_one_checker(world):
    w = world
    case = report(w)
    with pytest.raises(services.Conflict) as exc:
        start(w, case, {**HOME_CHECK, "home_checkers": "张三、张三"}, files=step_files("start_appraisal"))
    assert exc.value.reasons == ["入户核实须由至少两名不同的人员完成：同一人不能重复计算。"]
    # A chosen user and the same person typed again: still one.
    with pytest.raises(services.Conflict):
        start(
            w,
            case,
            {**HOME_CHECK, "home_checker_users": [w.village_cadre.pk], "home_checkers": "village"},
            files=step_files("start_appraisal"),
        )
    case = start(
        w,
        case,
        {**HOME_CHECK, "home_checker_users": [w.village_cadre.pk, w.town_official.pk], "home_checkers": ""},
        files=step_files("start_appraisal"),
    )
    assert case.state == State.VILLAGE_APPRAISAL
    assert set(case.home_checker_users.all()) == {w.village_cadre, w.town_official}
    assert sorted(case.events.get(action="start_appraisal").payload["home_checker_users"]) == ["town", "village"]


def test_checkers_are_chosen_only_from_the_village_and_town_users(world):
    w = world
    case = report(w)
    with at(T_REPORT):
        response = api(w.village_cadre).post(
            f"/api/cases/{case.pk}/transitions/start_appraisal/",
            {**HOME_CHECK, "home_checker_users": [w.village_cadre_b.pk], "commitment_archive_ref": "x"},
            format="json",
        )
    assert response.status_code == 400 and "home_checker_users" in response.json()


def test_the_commitment_needs_its_scan_unless_the_county_allows_paper_at_the_village(world):
    w = world
    from monitoring.models import CountySettings

    case = report(w)
    with pytest.raises(services.Conflict) as exc:
        start(w, case, HOME_CHECK)
    assert exc.value.reasons == ["请上传农户签署的承诺授权书扫描件。"]
    with pytest.raises(services.Conflict) as exc:
        start(w, case, {**HOME_CHECK, "commitment_archive_ref": "东山村档〔2026〕3号"})
    assert exc.value.reasons == ["本县未允许承诺授权书纸质件留存村级代替扫描件，请上传签署的承诺授权书扫描件。"]
    CountySettings.objects.create(
        county=w.county, effective_from=datetime.date(2026, 1, 1), commitment_paper_allowed=True
    )
    with pytest.raises(services.Conflict) as exc:
        start(w, case, HOME_CHECK)
    assert exc.value.reasons == ["请上传农户签署的承诺授权书扫描件，或填写纸质件在村级留存的档案编号。"]
    case = start(w, case, {**HOME_CHECK, "commitment_archive_ref": "东山村档〔2026〕3号"})
    assert case.state == State.VILLAGE_APPRAISAL and case.commitment_archive_ref == "东山村档〔2026〕3号"


def test_the_page_offers_the_village_and_town_users_and_refuses_a_missing_scan(client, world):
    w = world
    case = report(w)
    with at(T_REPORT):
        form = page(client, w.village_cadre).get(reverse("monitoring:case-action", args=[case.pk, "start_appraisal"]))
        posted = client.post(reverse("monitoring:case-action", args=[case.pk, "start_appraisal"]), HOME_CHECK)
    text = form.content.decode()
    assert f'value="{w.village_cadre.pk}"' in text and f'value="{w.town_official.pk}"' in text
    assert f'value="{w.village_cadre_b.pk}"' not in text and f'value="{w.county_officer.pk}"' not in text
    assert posted.status_code == 200 and "请上传农户签署的承诺授权书扫描件。" in posted.content.decode()
    assert MonitoringCase.objects.get(pk=case.pk).state == State.REPORTED
