"""Home visits (走访记录; issue 3 item 6, DOMAIN.md §4 and §8): start from what is known, update
the household, attach to the open case or open one carrying the facts over, never duplicate
an offline resubmission, photos and location optional; monitored cases visited monthly."""

import datetime
import uuid

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from households.models import Household
from monitoring import selectors, services
from monitoring.forms import VisitForm
from monitoring.models import CaseEvent, Channel, CountySettings, MonitoringCase, State, Visit, VisitPhoto
from tests import factories as f
from tests.monitoring.cases import CST, case_at, commitment_scan, dissolve, report

pytestmark = pytest.mark.django_db

D = datetime.date


def at(day):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, 10, tzinfo=CST), tick=False)


def visit(user, household, **data):
    data.setdefault("visited_on", D(2026, 3, 20))
    data.setdefault("visitors", "张三、李四")
    with at(data["visited_on"]):
        return services.visit_create(user=user, household=household, **data)


def test_visit_form_starts_from_the_households_last_known_state(world):
    household = world.household_a1
    household.housing_secure = False
    household.water_secure = False
    household.save()
    form = VisitForm(household=household)
    assert form["housing_secure"].initial is False and form["water_secure"].initial is False
    assert form["food_secure"].initial is True
    assert form.fields["photos"].required is False
    assert form.fields["latitude"].required is False and form.fields["longitude"].required is False


def test_visit_form_needs_only_date_and_visitors(world):
    with at(D(2026, 3, 20)):
        form = VisitForm(
            {
                "visited_on": "2026-03-20",
                "visitors": "张三",
                "food_secure": "on",
                "clothing_secure": "on",
                "education_secure": "on",
                "medical_secure": "on",
                "housing_secure": "on",
                "water_secure": "on",
            },
            household=world.household_a1,
        )
        assert form.is_valid(), form.errors
        future = VisitForm({"visited_on": "2026-03-21", "visitors": "张三"}, household=world.household_a1)
        assert future.errors["visited_on"] == ["走访日期不能晚于今天。"]
        opening = VisitForm({"visited_on": "2026-03-20", "visitors": "张三", "open_case": "on"})
        assert opening.errors["new_risks"] == ["申报监测对象时请勾选发现的风险或填写走访情况。"]


def test_visit_updates_the_households_two_worries_three_guarantees(world):
    v = visit(world.village_cadre, world.household_a1, housing_secure=False, findings="房屋墙体开裂")
    household = Household.objects.get(pk=world.household_a1.pk)
    assert household.housing_secure is False and household.food_secure is True
    assert v.problems() == ["住房安全"]
    # The next visit finds it repaired: only that change is typed.
    visit(world.village_cadre, world.household_a1, visited_on=D(2026, 4, 20), housing_secure=True)
    assert Household.objects.get(pk=household.pk).housing_secure is True


def test_visit_without_photos_or_location_is_saved(world):
    v = visit(world.village_cadre, world.household_a1)
    assert v.pk and v.photos.count() == 0 and v.latitude is None and v.longitude is None


def test_visit_photos_are_stored_when_given(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photos = [f.jpeg_upload(f"p{i}.jpg", color=(i, i, i)) for i in range(2)]
    v = visit(world.village_cadre, world.household_a1, photos=photos, latitude="23.123456", longitude="113.654321")
    assert VisitPhoto.objects.filter(visit=v).count() == 2
    assert v.photos.first().image.name.startswith("visits/")


def test_visit_attaches_to_the_open_case_and_appears_on_its_timeline(world):
    w = world
    case = case_at(w, State.MONITORED)
    v = visit(w.village_cadre, w.household_a1, findings="病情稳定，已报销医疗费用", income_change="-1200")
    assert v.case == case
    event = CaseEvent.objects.get(case=case, action="visit")
    assert (event.actor, event.from_state, event.to_state) == (w.village_cadre, State.MONITORED, State.MONITORED)
    assert event.payload == {"visit": v.pk}
    assert v in selectors.timeline(case)


def test_visit_can_open_a_case_carrying_its_facts_over(world):
    w = world
    v = visit(
        w.village_cadre,
        w.household_a1,
        open_case=True,
        medical_secure=False,
        new_risks=["illness", "employment"],
        findings="户主突发脑梗住院，子女返乡照顾",
    )
    case = v.case
    assert case is not None and case.state == State.REPORTED
    assert (case.channel, case.discovered_on) == (Channel.CADRE_VISIT, D(2026, 3, 20))
    assert case.reason == "户主突发脑梗住院，子女返乡照顾"
    assert (case.primary_risk, case.secondary_risks) == ("illness", ["employment"])
    # The visit was the home check: it need not be typed again.
    assert (case.home_check_on, case.home_checkers) == (D(2026, 3, 20), "张三、李四")
    assert Visit.objects.get(pk=v.pk).case == case
    event = CaseEvent.objects.get(case=case)
    assert event.action == "visit" and event.payload["visit"] == v.pk and event.to_state == State.REPORTED
    # With the commitment recorded, the appraisal can start from the visit's facts.
    with at(D(2026, 3, 21)):
        case = services.case_transition(
            user=w.village_cadre,
            case_id=case.pk,
            name="start_appraisal",
            data={"commitment_signed_on": "2026-03-21"},
            files={"commitment_scan": commitment_scan()},
        )
    assert case.state == State.VILLAGE_APPRAISAL and case.home_checkers == "张三、李四"


def test_visit_opening_a_case_without_findings_names_the_risks(world):
    v = visit(world.village_cadre, world.household_a1, open_case=True, new_risks=["disaster"])
    assert v.case.reason == "走访发现风险：因灾"


def test_opening_a_case_needs_a_risk_or_findings(world):
    with pytest.raises(ValidationError) as exc:
        visit(world.village_cadre, world.household_a1, open_case=True)
    assert exc.value.message_dict == {"new_risks": ["申报监测对象时请勾选发现的风险或填写走访情况。"]}
    assert not Visit.objects.exists() and not MonitoringCase.objects.exists()


def test_visit_asked_to_open_a_case_joins_the_open_one_instead(world):
    case = report(world)
    v = visit(world.village_cadre, world.household_a1, open_case=True, new_risks=["illness"])
    assert v.case == case and MonitoringCase.objects.count() == 1


def test_the_same_offline_visit_synced_twice_is_saved_once(world):
    key = uuid.uuid4()
    first = visit(world.village_cadre, world.household_a1, client_uuid=key, findings="离线录入")
    again = visit(world.village_cadre, world.household_a1, client_uuid=key, findings="离线录入")
    assert again.pk == first.pk and Visit.objects.count() == 1
    with at(D(2026, 3, 20)):
        form = VisitForm({"visited_on": "2026-03-20", "visitors": "张三", "client_uuid": str(key)})
        assert form.is_valid(), form.errors  # the service answers with the first visit


def test_a_client_uuid_of_another_households_visit_is_refused(world):
    key = uuid.uuid4()
    visit(world.village_cadre, world.household_a1, client_uuid=key)
    other = f.make_household(world.village_a1)
    with pytest.raises(ValidationError) as exc:
        visit(world.village_cadre, other, client_uuid=key)
    assert "client_uuid" in exc.value.message_dict
    assert Visit.objects.count() == 1


def test_who_may_record_a_visit(world):
    w = world
    assert visit(w.town_official, w.household_a1).recorded_by == w.town_official
    for user in (w.county_officer, w.admin):
        with pytest.raises(PermissionDenied):
            visit(user, w.household_a1)
    for user in (w.village_cadre_b, w.department_staff, w.nobody):
        with pytest.raises(Http404):
            visit(user, w.household_a1)
    assert Visit.objects.count() == 1


def test_contact_person_of_an_open_case_may_record_a_visit(world):
    w = world
    contact = f.UserFactory(username="contact")  # a helper from a county bureau, no area role
    case = case_at(w, State.MONITORED, contact_person=contact)
    v = visit(contact, w.household_a1, findings="帮扶联系人走访")
    assert v.case == case and v.recorded_by == contact
    with pytest.raises(Http404):  # not their case: nothing else opens to them
        visit(contact, w.household_a2)
    dissolve(w.household_a1)
    with at(D(2026, 6, 1)):
        services.case_transition(user=w.county_officer, case_id=case.pk, name="close", data={"comment": "迁出"})
    with pytest.raises(Http404):  # the case ended: so did their access
        visit(contact, w.household_a1)


# --- monthly visits of monitored cases -------------------------------------------------------------


def overdue(user, day):
    return list(selectors.overdue_visits(user, today=day))


def test_monitored_case_without_a_visit_for_a_month_is_listed(world):
    w = world
    case = case_at(w, State.MONITORED)  # determined 9 Mar 2026
    assert overdue(w.county_officer, D(2026, 4, 8)) == []  # a month since determination, not more
    assert overdue(w.county_officer, D(2026, 4, 9)) == [case]
    visit(w.village_cadre, w.household_a1, visited_on=D(2026, 4, 5))
    assert overdue(w.county_officer, D(2026, 4, 20)) == []
    listed = overdue(w.county_officer, D(2026, 5, 6))
    assert listed == [case] and listed[0].last_visit_on == D(2026, 4, 5)


def test_a_visit_before_determination_does_not_make_a_fresh_case_overdue(world):
    w = world
    visit(w.village_cadre, w.household_a1, visited_on=D(2026, 1, 5))
    case_at(w, State.MONITORED)  # determined 9 Mar
    assert overdue(w.county_officer, D(2026, 3, 20)) == []


def test_visit_interval_is_a_county_setting(world):
    w = world
    CountySettings.objects.create(county=w.county, visit_interval_days=90)  # households living away: quarterly
    case = case_at(w, State.MONITORED)
    assert overdue(w.county_officer, D(2026, 5, 20)) == []
    assert overdue(w.county_officer, D(2026, 6, 8)) == [case]


def test_only_monitored_cases_in_scope_are_on_the_visit_list(world):
    w = world
    case = case_at(w, State.MONITORED)
    report(w, household=f.make_household(w.village_a1))  # not yet monitored
    assert overdue(w.village_cadre, D(2026, 6, 1)) == [case]
    assert overdue(w.village_cadre_b, D(2026, 6, 1)) == []
    dissolve(w.household_a1)
    with at(D(2026, 6, 1)):
        services.case_transition(user=w.county_officer, case_id=case.pk, name="close", data={"comment": "迁出"})
    assert overdue(w.county_officer, D(2026, 6, 2)) == []


def test_visit_list_keeps_a_constant_number_of_queries(world, django_assert_max_num_queries):
    w = world
    case_at(w, State.MONITORED)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w.county_officer._fanpin_roles = None
    with CaptureQueriesContext(connection) as one:
        rows = overdue(w.county_officer, D(2026, 6, 1))
        [(c.household.village.parent.name, c.contact_person) for c in rows]
    for _ in range(4):
        case_at(w, State.MONITORED, household=f.make_household(w.village_a1))
    w.county_officer._fanpin_roles = None
    with django_assert_max_num_queries(len(one.captured_queries)):
        rows = overdue(w.county_officer, D(2026, 6, 1))
        [(c.household.village.parent.name, c.contact_person) for c in rows]
    assert len(rows) == 5


def test_visit_photos_are_served_only_inside_scope(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photo = f.jpeg_upload("p.jpg")
    v = visit(world.village_cadre, world.household_a1, photos=[photo])
    url = f"/visits/photos/{v.photos.get().pk}/"
    client.force_login(world.town_official)
    # Stored re-encoded (households/uploads.py): a JPEG of the same picture, not the same bytes.
    assert b"".join(client.get(url).streaming_content).startswith(b"\xff\xd8\xff")
    client.force_login(world.village_cadre_b)
    assert client.get(url).status_code == 404


def test_the_case_keeps_the_households_last_visit_and_a_late_entry_does_not_lower_it(world):
    """MonitoringCase.last_visit_on is what the overdue-visit panel reads: the visit made before
    the report starts the case, a later visit moves it on, one entered late leaves it."""
    w = world
    visit(w.village_cadre, w.household_a1, visited_on=D(2026, 2, 20))
    case = case_at(w, State.MONITORED)  # determined 9 Mar
    assert MonitoringCase.objects.get(pk=case.pk).last_visit_on == D(2026, 2, 20)
    visit(w.village_cadre, w.household_a1, visited_on=D(2026, 4, 5))
    visit(w.village_cadre, w.household_a1, visited_on=D(2026, 3, 25))  # entered late
    assert MonitoringCase.objects.get(pk=case.pk).last_visit_on == D(2026, 4, 5)
    assert overdue(w.county_officer, D(2026, 5, 4)) == []
    assert overdue(w.county_officer, D(2026, 5, 6)) == [case]


def test_a_case_follows_its_household_to_another_village(world):
    """The case keeps its household's village (MonitoringCase.village): moved by the registry,
    the household's case is seen by the new village's cadre and no longer by the old one's."""
    from households import services as household_services

    w = world
    case = case_at(w, State.MONITORED)
    assert case in selectors.cases_visible_to(w.village_cadre)
    with at(D(2026, 3, 20)):
        household_services.household_update(user=w.county_officer, household=w.household_a1, village=w.village_b1)
    assert MonitoringCase.objects.get(pk=case.pk).village == w.village_b1
    assert case not in selectors.cases_visible_to(w.village_cadre)
    assert case in selectors.cases_visible_to(w.village_cadre_b)
    assert case in selectors.overdue_visits(w.village_cadre_b, D(2026, 5, 6))
