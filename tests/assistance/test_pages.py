"""Plan pages on a phone: the plan, a one-tap suggested measure, progress, 我的帮扶, and the
plan's place on the case page and in 我的待办."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from assistance import services
from assistance.forms import MeasureCreateForm
from assistance.models import Measure, MeasureType
from monitoring.models import CaseEvent
from tests import factories as f
from tests.assistance.conftest import CST
from tests.factories import PASSWORD
from tests.monitoring.cases import advance, case_at

pytestmark = pytest.mark.usefixtures("on_plan_day")


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_plan_page_shows_warnings_suggestions_and_checklist(client, w):
    page = login(client, w.contact).get(reverse("assistance:plan", args=[w.case.pk])).content.decode()
    assert "帮扶计划（一户一策）" in page
    assert "该户有劳动能力：应至少安排一项开发式帮扶措施" in page
    assert "请在 2026-03-24 前添加帮扶措施（还剩 13 天）" in page
    assert 'value="public_job"' in page  # the first suggestion, one tap to add
    assert 'data-criterion="measures" data-met="0"' in page


def test_plan_page_out_of_scope_is_404(client, w):
    assert login(client, w.village_cadre_b).get(reverse("assistance:plan", args=[w.case.pk])).status_code == 404


def test_one_tap_adds_the_suggested_measure_prefilled(client, w):
    login(client, w.contact)
    response = client.post(reverse("assistance:suggestion-add", args=[w.case.pk]), {"measure_type": "public_job"})
    measure = Measure.objects.get(case=w.case)
    assert response.status_code == 302
    assert response["Location"] == reverse("assistance:measure", args=[measure.pk])
    assert (measure.measure_type_id, measure.status, measure.contact_person) == ("public_job", "planned", w.contact)
    assert measure.starts_on == datetime.date(2026, 3, 11)
    # A second tap finds it no longer suggested: nothing added twice.
    client.post(reverse("assistance:suggestion-add", args=[w.case.pk]), {"measure_type": "public_job"})
    assert Measure.objects.filter(case=w.case).count() == 1


def test_add_form_keeps_what_was_typed_and_says_what_is_wrong(client, w):
    login(client, w.contact)
    url = reverse("assistance:measure-create", args=[w.case.pk])
    form_page = client.get(url + "?type=medical_aid").content.decode()
    assert 'value="medical_aid" selected' in form_page
    response = client.post(
        url, {"measure_type": "medical_aid", "starts_on": "2026-03-20", "ends_on": "2026-03-01", "amount": "800"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "结束日期不能早于开始日期。" in page
    assert 'value="800"' in page
    assert not Measure.objects.exists()


def test_add_form_on_a_case_not_monitored_says_why(client, w):
    other = case_at(w, "county_review", household=f.make_household(w.village_a1))
    login(client, w.village_cadre)
    response = client.post(
        reverse("assistance:measure-create", args=[other.pk]),
        {"measure_type": "dibao", "starts_on": "2026-03-11"},
        follow=True,
    )
    assert "只有监测帮扶中（或风险消除办理中）的对象才能添加帮扶措施" in response.content.decode()
    assert not Measure.objects.exists()


def test_progress_from_the_measure_page_in_one_tap(client, w):
    measure = Measure.objects.create(case=w.case, measure_type_id="public_job", contact_person=w.contact)
    login(client, w.contact)
    page = client.get(reverse("assistance:measure", args=[measure.pk])).content.decode()
    assert "记录并标为实施中" in page
    response = client.post(
        reverse("assistance:measure-progress", args=[measure.pk]), {"note": "已上岗", "status": "in_progress"}
    )
    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.status == "in_progress"
    empty = client.post(reverse("assistance:measure-progress", args=[measure.pk]), {"note": ""})
    assert "请填写进展情况。" in empty.content.decode()


def test_stop_page_needs_a_reason(client, w):
    measure = Measure.objects.create(case=w.case, measure_type_id="dibao")
    login(client, w.village_cadre)
    url = reverse("assistance:measure-stop", args=[measure.pk])
    assert "终止措施请填写原因。" in client.post(url, {"note": ""}).content.decode()
    client.post(url, {"note": "不符合低保条件"})
    measure.refresh_from_db()
    assert (measure.status, measure.stop_reason) == ("stopped", "不符合低保条件")


def test_my_assistance_lists_cases_measures_due_and_next_visit(client, w, django_assert_max_num_queries):
    measure = Measure.objects.create(
        case=w.case, measure_type_id="public_job", contact_person=w.contact, starts_on=datetime.date(2026, 3, 10)
    )
    login(client, w.contact)
    page = client.get(reverse("assistance:mine")).content.decode()
    assert w.case.household.number in page
    assert "计划 2026-03-10 开始，已过 1 天仍未实施" in page
    assert "下次走访：2026-04-08 前" in page  # determined 9 March, monthly visits
    assert reverse("assistance:measure", args=[measure.pk]) in page
    for _ in range(5):
        case_at(w, "monitored", contact_person=w.contact, household=f.make_household(w.village_a1))
    with django_assert_max_num_queries(12):
        page = client.get(reverse("assistance:mine")).content.decode()
    assert page.count("帮扶计划</a>") == 6


def test_my_assistance_is_empty_for_someone_following_no_case(client, w):
    page = login(client, w.village_cadre_b).get(reverse("assistance:mine")).content.decode()
    assert "您还没有负责帮扶的监测对象。" in page


def test_case_page_shows_the_plan_and_what_continues_after_elimination(client, w):
    Measure.objects.create(case=w.case, measure_type_id="medical_aid", status="in_progress")
    login(client, w.village_cadre)
    page = client.get(reverse("monitoring:case-detail", args=[w.case.pk])).content.decode()
    assert "帮扶计划（1 项措施）" in page
    assert reverse("assistance:plan", args=[w.case.pk]) in page


def test_overdue_plans_are_in_the_inbox_and_counted(client, w):
    login(client, w.village_cadre)
    assert "帮扶计划超期" not in client.get(reverse("monitoring:inbox")).content.decode()
    with time_machine.travel(datetime.datetime(2026, 3, 30, 10, tzinfo=CST), tick=False):
        login(client, w.village_cadre)  # the session of 11 March has expired by now
        page = client.get(reverse("monitoring:inbox")).content.decode()
    assert "帮扶计划超期的监测户（1）" in page
    assert "超期 6 天" in page


def test_measure_changes_show_on_the_case_timeline(client, w):
    form = MeasureCreateForm({"measure_type": "dibao", "starts_on": "2026-03-11"}, case=w.case)
    assert form.is_valid()
    services.measure_create(user=w.contact, case_id=w.case.pk, data=form.cleaned_data)
    login(client, w.village_cadre)
    page = client.get(reverse("monitoring:case-detail", args=[w.case.pk])).content.decode()
    assert "添加帮扶措施：低保" in page
    assert CaseEvent.objects.filter(case=w.case, action="measure_added").exists()


def test_after_elimination_the_case_page_says_which_measures_continue(client, w):
    case = advance(w, w.case, "eliminated")
    credit = Measure.objects.create(
        case=case,
        measure_type_id="micro_credit",
        status="in_progress",
        starts_on=datetime.date(2026, 4, 1),
        ends_on=datetime.date(2028, 3, 31),
    )
    login(client, w.village_cadre)
    page = client.get(reverse("monitoring:case-detail", args=[case.pk])).content.decode()
    assert "风险已消除，以下措施继续落实：小额信贷（至贷款合同期满，2028-03-31）" in page
    # A continuing measure still takes its progress notes; no new measure is added.
    services.measure_progress(user=w.village_cadre, measure_id=credit.pk, note="按期付息")
    response = client.post(
        reverse("assistance:measure-create", args=[case.pk]), {"measure_type": "dibao", "starts_on": "2026-11-01"}
    )
    assert response.status_code == 302
    assert not Measure.objects.filter(case=case, measure_type_id="dibao").exists()


def test_plan_page_queries_stay_flat_as_measures_grow(client, w, django_assert_max_num_queries):
    login(client, w.contact)
    for code in ("public_job", "medical_aid", "dibao", "training", "insurance"):
        Measure.objects.create(case=w.case, measure_type_id=code, status="in_progress")
    with django_assert_max_num_queries(30):
        response = client.get(reverse("assistance:plan", args=[w.case.pk]))
    assert response.content.decode().count('class="item') >= 5


def test_someone_carrying_only_a_measure_reaches_the_measure_not_the_plan(client, w):
    measure = Measure.objects.create(case=w.case, measure_type_id="medical_aid", contact_person=w.town_official_b)
    login(client, w.town_official_b)
    page = client.get(reverse("assistance:mine")).content.decode()
    assert reverse("assistance:measure", args=[measure.pk]) in page
    assert reverse("assistance:plan", args=[w.case.pk]) not in page
    assert client.get(reverse("assistance:measure", args=[measure.pk])).status_code == 200
    assert client.get(reverse("assistance:plan", args=[w.case.pk])).status_code == 404


def test_edit_page_changes_the_facts_and_records_before_and_after(client, w):
    measure = Measure.objects.create(case=w.case, measure_type_id="public_job", contact_person=w.contact)
    login(client, w.contact)
    url = reverse("assistance:measure-edit", args=[measure.pk])
    assert 'name="amount"' in client.get(url).content.decode()
    bad = client.post(url, {"starts_on": "2026-03-20", "ends_on": "2026-03-01"})
    assert "结束日期不能早于开始日期。" in bad.content.decode()
    response = client.post(
        url,
        {"starts_on": "2026-03-10", "amount": "9600", "funding_source": "衔接资金", "contact_person": w.contact.pk},
    )
    assert response.status_code == 302
    entry = measure.progress.get()
    assert entry.changes["amount"] == [None, "9600.00"]
    assert entry.changes["funding_source"] == ["", "衔接资金"]
    page = client.get(reverse("assistance:measure", args=[measure.pk])).content.decode()
    assert "amount：（空） → 9600.00" in page or "9600.00" in page


def test_pages_refuse_those_who_take_no_part_in_the_plan(client, w):
    measure = Measure.objects.create(case=w.case, measure_type_id="public_job")
    login(client, w.admin)
    assert client.get(reverse("assistance:measure-create", args=[w.case.pk])).status_code == 403
    assert client.get(reverse("assistance:measure-edit", args=[measure.pk])).status_code == 403
    response = client.post(reverse("assistance:measure-progress", args=[measure.pk]), {"note": "越权"})
    assert response.status_code == 403
    assert not measure.progress.exists()


def test_a_suggestion_no_longer_offered_is_not_added(client, w):
    login(client, w.contact)
    response = client.post(
        reverse("assistance:suggestion-add", args=[w.case.pk]), {"measure_type": "no_such"}, follow=True
    )
    assert "该推荐措施已不在推荐列表中" in response.content.decode()
    assert not Measure.objects.exists()


def test_a_stopped_measure_is_not_stopped_twice(client, w):
    measure = Measure.objects.create(case=w.case, measure_type_id="dibao")
    login(client, w.contact)
    url = reverse("assistance:measure-stop", args=[measure.pk])
    assert "终止原因" in client.get(url).content.decode()
    client.post(url, {"note": "重复安排"})
    again = client.post(url, {"note": "再次终止"}, follow=True)
    assert "该措施已终止" in again.content.decode()
    edit = client.post(reverse("assistance:measure-edit", args=[measure.pk]), {"starts_on": "2026-03-11"}, follow=True)
    assert "该措施已终止，不能再修改。" in edit.content.decode()


def test_the_county_edits_the_catalogue_in_the_admin_and_nothing_is_deleted(client, w):
    superuser = get_user_model().objects.create_superuser("root", password=PASSWORD)
    assert client.login(username=superuser.username, password=PASSWORD)
    assert client.get("/admin/assistance/measuretype/").status_code == 200
    response = client.post(
        "/admin/assistance/measuretype/add/",
        {
            "code": "consumption",
            "label": "消费帮扶",
            "kind": "developmental",
            "risk_types": '["industry"]',
            "department_kind": "rural",
            "sort_order": 200,
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert MeasureType.objects.get(code="consumption").label == "消费帮扶"
    bad = client.post(
        "/admin/assistance/measuretype/add/",
        {"code": "x", "label": "x", "kind": "other", "risk_types": '["nonsense"]', "sort_order": 1},
    )
    assert "风险类型应为代码列表" in bad.content.decode()
    measure = Measure.objects.create(case=w.case, measure_type_id="consumption")
    assert client.get(f"/admin/assistance/measure/{measure.pk}/change/").status_code == 200
    assert client.post(f"/admin/assistance/measure/{measure.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Measure.objects.filter(pk=measure.pk).exists()
