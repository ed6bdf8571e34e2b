"""After a rejection (issue 8 item 8): the household is told within 5 working days from a printable
告知书, overdue notifications are listed, a re-check request reopens the review; and households
living away get the quarterly visit interval."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from rest_framework.test import APIClient

from households.models import Member
from monitoring import rejections, selectors, services
from monitoring.models import CaseEvent, CountySettings, RecheckRequest, State
from tests import factories as f
from tests.factories import PASSWORD
from tests.monitoring.cases import CST, T_REVIEW, add_users, case_at

D = datetime.date
REJECTED_ON = D(2026, 3, 9)  # a Monday: five working days run to Monday 16 March


def at(day, hour=10):
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(hour), CST), tick=False)


@pytest.fixture
def w(world):
    add_users(world)
    case = case_at(world, State.TOWN_REVIEW)
    with time_machine.travel(T_REVIEW, tick=False):
        world.case = services.case_transition(
            user=world.town_official,
            case_id=case.pk,
            name="reject",
            data={"comment": "经信息比对，家庭成员名下有商品房一套，不符合纳入条件。"},
        )
    assert world.case.state == State.REJECTED
    return world


def test_the_household_must_be_told_within_five_working_days(w):
    assert rejections.notification_due(w.case).date == D(2026, 3, 16)
    assert list(rejections.overdue_notifications(w.county_officer, D(2026, 3, 16))) == []
    assert list(rejections.overdue_notifications(w.county_officer, D(2026, 3, 17))) == [w.case]
    assert list(rejections.overdue_notifications(w.town_official, D(2026, 3, 17))) == [w.case]
    assert list(rejections.overdue_notifications(w.village_cadre_b, D(2026, 3, 17))) == []


def test_the_working_days_are_a_dated_county_setting(w):
    CountySettings.objects.create(county=w.county, effective_from=D(2026, 1, 1), rejection_notice_workdays=10)
    assert rejections.notification_due(w.case).date == D(2026, 3, 23)
    assert list(rejections.overdue_notifications(w.county_officer, D(2026, 3, 17))) == []


def test_town_records_the_notification_and_it_is_no_longer_overdue(w):
    with at(D(2026, 3, 12)):
        found = rejections.notification_record(
            user=w.town_official, case_id=w.case.pk, notified_on=D(2026, 3, 12), method="in_person", recipient="户主"
        )
    assert found.rejected_on == REJECTED_ON
    event = CaseEvent.objects.get(case=w.case, action="rejection_notified")
    assert (event.label, event.comment) == ("登记不予纳入告知", "2026-03-12 当面送达告知 户主")
    assert list(rejections.overdue_notifications(w.county_officer, D(2026, 3, 20))) == []
    with at(D(2026, 3, 12)), pytest.raises(services.Conflict):
        rejections.notification_record(
            user=w.town_official, case_id=w.case.pk, notified_on=D(2026, 3, 12), method="phone", recipient="户主"
        )


def test_a_late_notification_says_so_on_the_timeline(w):
    with at(D(2026, 3, 20)):
        rejections.notification_record(
            user=w.county_officer, case_id=w.case.pk, notified_on=D(2026, 3, 20), method="phone", recipient="户主"
        )
    assert "超过告知时限 2026-03-16" in CaseEvent.objects.get(case=w.case, action="rejection_notified").comment


def test_only_town_or_county_record_it_and_dates_are_checked(w):
    with at(D(2026, 3, 12)):
        with pytest.raises(PermissionDenied):
            rejections.notification_record(
                user=w.village_cadre, case_id=w.case.pk, notified_on=D(2026, 3, 12), method="phone", recipient="户主"
            )
        with pytest.raises(ValidationError) as early:
            rejections.notification_record(
                user=w.town_official, case_id=w.case.pk, notified_on=D(2026, 3, 8), method="phone", recipient="户主"
            )
        assert early.value.message_dict == {"notified_on": ["告知日期不能早于不予纳入日期（2026-03-09）。"]}
        with pytest.raises(ValidationError):
            rejections.notification_record(
                user=w.town_official, case_id=w.case.pk, notified_on=D(2026, 3, 13), method="phone", recipient="户主"
            )


def test_the_printable_letter_gives_the_reason_and_the_way_to_ask_for_a_recheck(client, w):
    head = w.case.household.members.get(relation=Member.Relation.HEAD)
    head.phone = "13912345678"
    head.save()
    assert client.login(username=w.town_official.username, password=PASSWORD)
    with at(D(2026, 3, 11)):
        page = client.get(reverse("monitoring:rejection-letter", args=[w.case.pk])).content.decode()
        detail = client.get(reverse("monitoring:case-detail", args=[w.case.pk])).content.decode()
    assert "防止返贫监测对象认定结果告知书" in page
    assert "理由：经信息比对，家庭成员名下有商品房一套，不符合纳入条件。" in page
    assert "申请复核" in page
    assert head.id_number not in page and "13912345678" not in page
    assert "应于 2026-03-16 前告知" in detail
    assert "<script>" not in page and "onclick" not in page


def test_the_letter_is_404_out_of_scope(client, w):
    assert client.login(username=w.village_cadre_b.username, password=PASSWORD)
    assert client.get(reverse("monitoring:rejection-letter", args=[w.case.pk])).status_code == 404


def test_overdue_notifications_are_in_the_inbox_and_counted(client, w):
    with at(D(2026, 3, 17)):
        assert client.login(username=w.county_officer.username, password=PASSWORD)
        page = client.get(reverse("monitoring:inbox")).content.decode()
    assert "不予纳入超期未告知（1）" in page


def test_a_recheck_request_reopens_the_review_at_the_step_that_rejected(w):
    with at(D(2026, 3, 13)):
        request = rejections.recheck_request_record(
            user=w.village_cadre,
            case_id=w.case.pk,
            requested_on=D(2026, 3, 13),
            requested_by="户主",
            content="商品房已于去年出售，附购房合同解除证明。",
        )
    w.case.refresh_from_db()
    assert w.case.state == State.TOWN_REVIEW
    assert (w.case.ended_on, w.case.end_reason) == (None, "")
    assert request.reopened_at == State.TOWN_REVIEW
    assert request.rejected_on == REJECTED_ON
    actions = list(CaseEvent.objects.filter(case=w.case).order_by("at", "id").values_list("action", flat=True))
    assert actions[-3:] == ["reject", "recheck_requested", "reopen_for_recheck"]
    last = CaseEvent.objects.filter(case=w.case).order_by("at", "id").last()
    assert (last.from_state, last.to_state) == (State.REJECTED, State.TOWN_REVIEW)
    assert "town_approve" in services.available_transitions(w.case, w.town_official)


def test_a_recheck_is_refused_while_the_household_has_another_open_case(w):
    with at(D(2026, 3, 12)):
        services.case_create(
            user=w.village_cadre,
            household=w.case.household,
            channel="cadre_visit",
            discovered_on=D(2026, 3, 12),
            reason="再次申报",
        )
    with at(D(2026, 3, 13)), pytest.raises(services.Conflict) as caught:
        rejections.recheck_request_record(
            user=w.village_cadre, case_id=w.case.pk, requested_on=D(2026, 3, 13), requested_by="户主", content="复核"
        )
    assert caught.value.message == "该户已有进行中的监测对象记录，不能重新审核本条记录。"
    assert not RecheckRequest.objects.exists()


def test_the_api_records_the_notification_and_the_recheck(w):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(pk=w.town_official.pk))
    with at(D(2026, 3, 17)):
        overdue = client.get("/api/rejections/overdue/").json()["results"]
        assert [c["id"] for c in overdue] == [w.case.pk]
        response = client.post(
            f"/api/cases/{w.case.pk}/rejection-notification/", {"method": "phone", "recipient": "户主"}, format="json"
        )
        assert response.status_code == 201
        assert response.json()["notified_on"] == "2026-03-17"
        again = client.post(
            f"/api/cases/{w.case.pk}/rejection-notification/", {"method": "phone", "recipient": "户主"}, format="json"
        )
        assert again.status_code == 409
        recheck = client.post(
            f"/api/cases/{w.case.pk}/recheck-request/", {"requested_by": "户主", "content": "请求复核"}, format="json"
        )
        assert recheck.status_code == 201
        assert recheck.json()["reopened_at"] == State.TOWN_REVIEW
        second = client.post(
            f"/api/cases/{w.case.pk}/recheck-request/", {"requested_by": "户主", "content": "请求复核"}, format="json"
        )
        assert second.status_code == 409


def test_households_living_away_are_visited_quarterly(world):
    add_users(world)
    away_household = f.make_household(world.village_a1, members=2)
    Member.objects.filter(household=away_household).update(work_place="out_province", work_months=10)
    at_home = case_at(world, State.MONITORED)
    away = case_at(world, State.MONITORED, household=away_household)
    # Determined 9 March: 45 days later the monthly household is overdue, the one living away is not.
    late = selectors.overdue_visits(world.county_officer, D(2026, 4, 23))
    assert set(late) == {at_home}
    assert set(selectors.overdue_visits(world.county_officer, D(2026, 6, 8))) == {at_home, away}
    # Someone at home (an elderly parent) brings back the monthly rule.
    parent = Member.objects.filter(household=away_household).first()
    Member.objects.filter(pk=parent.pk).update(work_place="", work_months=0)
    assert set(selectors.overdue_visits(world.county_officer, D(2026, 4, 23))) == {at_home, away}


def test_only_cadres_of_the_place_record_a_recheck(w):
    with at(D(2026, 3, 13)):
        with pytest.raises(Http404):
            rejections.recheck_request_record(
                user=w.village_cadre_b,
                case_id=w.case.pk,
                requested_on=D(2026, 3, 13),
                requested_by="户主",
                content="复核",
            )
        with pytest.raises(ValidationError):
            rejections.recheck_request_record(
                user=w.town_official, case_id=w.case.pk, requested_on=D(2026, 3, 13), requested_by="户主", content=""
            )
    assert not RecheckRequest.objects.exists()


def test_the_letter_page_records_the_notification_and_the_recheck(client, w):
    assert client.login(username=w.town_official.username, password=PASSWORD)
    with at(D(2026, 3, 12)):
        bad = client.post(reverse("monitoring:rejection-notified", args=[w.case.pk]), {"method": "phone"})
        assert "这个字段是必填项" in bad.content.decode() or "必填" in bad.content.decode()
        client.post(
            reverse("monitoring:rejection-notified", args=[w.case.pk]),
            {"notified_on": "2026-03-12", "method": "phone", "recipient": "户主"},
        )
        page = client.get(reverse("monitoring:rejection-letter", args=[w.case.pk])).content.decode()
        assert "已告知" in page and "电话告知" in page
        response = client.post(
            reverse("monitoring:recheck-create", args=[w.case.pk]),
            {"requested_on": "2026-03-12", "requested_by": "户主", "content": "收入情况有误"},
        )
    assert response.status_code == 302
    w.case.refresh_from_db()
    assert w.case.state == State.TOWN_REVIEW


def test_a_case_rejected_at_the_village_reopens_at_the_village(world):
    add_users(world)
    case = case_at(world, State.VILLAGE_APPRAISAL, household=f.make_household(world.village_a1))
    with at(D(2026, 3, 3)):
        services.case_transition(
            user=world.village_cadre, case_id=case.pk, name="reject", data={"comment": "不符合条件"}
        )
    with at(D(2026, 3, 5)):
        rejections.recheck_request_record(
            user=world.town_official, case_id=case.pk, requested_on=D(2026, 3, 5), requested_by="户主", content="复核"
        )
    case.refresh_from_db()
    assert case.state == State.VILLAGE_APPRAISAL
