"""Data-quality checks on entry and the registry-wide report page (DOMAIN.md §8)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from households import quality, services
from households.models import IncomeRecord, Member
from tests import factories as f


def member(household, born, **fields):
    return f.MemberFactory(household=household, relation=Member.Relation.CHILD,
                           id_number=f.valid_id(born, "M"), **fields)


def codes(household):
    return {finding.code for finding in services.findings_after_entry(household)}


def test_child_under_16_with_work_months_is_flagged(world):
    ten_years_ago = datetime.date.today().replace(day=1) - datetime.timedelta(days=365 * 10)
    child = member(world.household_a1, ten_years_ago, work_months=4)
    found = [x for x in services.findings_after_entry(world.household_a1) if x.member_id == child.pk]
    assert [x.code for x in found] == ["child_wage"]
    assert f"{child.name} 未满 16 周岁" in found[0].message


def test_sixteen_year_old_worker_is_not_flagged_as_child(world):
    seventeen = datetime.date.today().replace(day=1) - datetime.timedelta(days=365 * 17 + 10)
    member(world.household_a1, seventeen, work_months=4)
    assert "child_wage" not in codes(world.household_a1)


def test_full_time_student_with_work_is_flagged(world):
    member(world.household_a1, datetime.date(2004, 6, 1), schooling=Member.Schooling.HIGHER,
           work_place=Member.WorkPlace.IN_PROVINCE)
    assert "student_wage" in codes(world.household_a1)


@pytest.mark.parametrize("labour", [Member.Labour.LOST, Member.Labour.NONE])
def test_member_unable_to_work_with_work_is_flagged(world, labour):
    member(world.household_a1, datetime.date(1960, 6, 1), labour_capacity=labour, work_months=12)
    assert "unable_wage" in codes(world.household_a1)


def test_deceased_member_is_not_counted_in_household_size(world):
    household = world.household_a1
    child = household.members.exclude(relation=Member.Relation.HEAD).first()
    record = f.make_income(household, year=datetime.date.today().year - 1, wage_income=9000)
    assert record.per_capita_net_income == Decimal("3000.00")
    # The member dies after the income was entered: the report asks to resave the record.
    services.member_update(user=world.village_cadre, member=child, status=Member.Status.DECEASED)
    assert "household_size" in codes(household)
    record = services.income_record_save(user=world.village_cadre, household=household, record=record,
                                         year=record.year, wage_income=Decimal("9000"))
    assert record.household_size == 2
    assert record.per_capita_net_income == Decimal("4500.00")
    assert "household_size" not in codes(household)
    # Dead members' work is not a finding either.
    Member.objects.filter(pk=child.pk).update(work_months=6, schooling=Member.Schooling.PRIMARY)
    assert codes(household) == set()


def test_income_total_that_does_not_match_parts_is_flagged(world):
    record = f.make_income(world.household_a1, year=2025, wage_income=1000)
    IncomeRecord.objects.filter(pk=record.pk).update(total_net_income=Decimal("5000"))
    assert {"income_total", "per_capita"} <= codes(world.household_a1)


def test_warning_is_shown_after_adding_a_working_child_on_the_page(client, world):
    client.force_login(world.village_cadre)
    child_id = f.valid_id(datetime.date(2015, 2, 3), "F")
    data = {"name": "小红", "id_number": child_id, "relation": "child", "status": "active",
            "health": "healthy", "labour_capacity": "none", "schooling": "primary",
            "work_place": "in_county", "work_months": "3", "medical_insurance": "on"}
    response = client.post(reverse("households:member-create", args=[world.household_a1.pk]), data, follow=True)
    html = response.content.decode()
    assert "小红 未满 16 周岁" in html
    assert "小红 是在校生（小学）" in html
    assert "小红 为无劳动力" in html


# --- the report page ----------------------------------------------------------------------

def make_failing(village):
    household = f.make_household(village, members=1)
    member(household, datetime.date(2001, 1, 1), schooling=Member.Schooling.HIGHER, work_months=2)
    return household


def test_report_lists_failing_households_only(client, world):
    failing = make_failing(world.village_a1)
    client.force_login(world.county_officer)
    response = client.get(reverse("households:quality"))
    listed = [household.number for household, _ in response.context["page"].object_list]
    assert listed == [failing.number]
    html = response.content.decode()
    assert reverse("households:detail", args=[failing.pk]) in html
    assert "是在校生" in html
    assert world.household_a1.number not in html


def test_report_respects_scope(client, world):
    make_failing(world.village_a1)
    failing_b1 = make_failing(world.village_b1)
    failing_other = make_failing(world.other_village)
    client.force_login(world.village_cadre_b)
    listed = {h.number for h, _ in client.get(reverse("households:quality")).context["page"].object_list}
    assert listed == {failing_b1.number}
    client.force_login(world.department_staff)
    assert client.get(reverse("households:quality")).context["failing"] == 0
    client.force_login(world.admin)
    assert failing_other.number in client.get(reverse("households:quality")).content.decode()


def test_report_without_problems_says_so(client, world):
    client.force_login(world.village_cadre)
    assert "没有发现数据问题" in client.get(reverse("households:quality")).content.decode()


@pytest.mark.parametrize("count", [5, 60])
def test_report_keeps_a_constant_number_of_queries(client, world, django_assert_max_num_queries, count):
    for index in range(count):
        household = make_failing(world.village_a1)
        f.make_income(household, year=2025, wage_income=100 + index)
    client.force_login(world.county_officer)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("households:quality"))
    assert response.context["failing"] == count
    assert len(response.context["page"].object_list) == min(count, 50)


def test_registry_findings_skip_consistent_households(world):
    make_failing(world.village_a1)
    report = quality.registry_findings(quality.prefetch_for_checks(
        world.household_a1.__class__.objects.all()))
    assert world.household_a1 not in [household for household, _ in report]
    assert len(report) == 1
