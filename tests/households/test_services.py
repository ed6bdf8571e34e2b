import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from households import idnumber, services
from households.models import Household, IncomeRecord, Member, per_capita
from tests import factories as f


def member(name="张三", relation="head", **extra):
    return {"name": name, "relation": relation, "id_number": f.valid_id(), **extra}


def test_village_cadre_registers_a_household_with_members(world):
    household = services.household_create(
        user=world.village_cadre,
        village=world.village_a1,
        number="S-1",
        members=[member(), member("李四", "spouse")],
    )
    assert household.members.count() == 2
    assert household.members.get(relation="head").sex in ("M", "F")


def test_create_in_a_village_outside_the_write_scope_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        services.household_create(user=world.village_cadre, village=world.village_b1, number="S-1")
    assert exc.value.message_dict == {"village": ["该村不存在，或您无权在该村登记或修改农户。"]}
    with pytest.raises(ValidationError):
        services.household_create(user=world.town_official, village=world.village_a1, number="S-2")
    assert not Household.objects.filter(number__startswith="S-").exists()


def test_county_officer_may_register_in_any_village_of_the_county(world):
    services.household_create(user=world.county_officer, village=world.village_b1, number="S-1")
    with pytest.raises(ValidationError):
        services.household_create(user=world.county_officer, village=world.other_village, number="S-2")


def test_a_bad_member_rolls_back_the_whole_household(world):
    bad = member("李四", "spouse", id_number="440981198005170014")
    with pytest.raises(ValidationError) as exc:
        services.household_create(
            user=world.village_cadre, village=world.village_a1, number="S-1", members=[member(), bad]
        )
    assert exc.value.message_dict == {"members[1].id_number": ["身份证号校验位错误，请核对号码。"]}
    assert not Household.objects.filter(number="S-1").exists()


def test_an_id_number_is_never_in_two_households(world):
    taken = world.household_b1.head.id_number
    with pytest.raises(ValidationError) as exc:
        services.member_create(
            user=world.village_cadre, household=world.household_a1, **member("重复", "child", id_number=taken)
        )
    # Held in another village: refused without saying where (issue 14 finding 6).
    assert exc.value.message_dict["id_number"] == [services.CLASH_MESSAGES["id_number"]]


def test_second_living_head_is_refused(world):
    with pytest.raises(ValidationError):
        services.member_create(user=world.village_cadre, household=world.household_a1, **member("二号户主"))


def test_town_official_cannot_change_the_registry(world):
    with pytest.raises(PermissionDenied):
        services.household_update(user=world.town_official, household=world.household_a1, address="x")
    with pytest.raises(PermissionDenied):
        services.member_update(user=world.town_official, member=world.household_a1.head, name="x")
    with pytest.raises(PermissionDenied):
        services.income_record_save(user=world.town_official, household=world.household_a1, year=2025)


def test_unknown_or_derived_fields_cannot_be_written(world):
    with pytest.raises(ValidationError) as exc:
        services.member_update(user=world.village_cadre, member=world.household_a1.head, sex="F")
    assert "sex" in exc.value.message_dict


def test_deceased_and_moved_out_members_are_not_counted(world):
    household = f.make_household(world.village_a1, members=4)
    children = list(household.members.filter(relation="child"))
    services.member_update(user=world.village_cadre, member=children[0], status=Member.Status.DECEASED)
    services.member_update(user=world.village_cadre, member=children[1], status=Member.Status.MOVED_OUT)
    record = services.income_record_save(
        user=world.village_cadre, household=household, year=2025, wage_income=Decimal("9000")
    )
    assert record.household_size == 2
    assert record.per_capita_net_income == Decimal("4500.00")


def test_per_capita_income_is_rounded_to_the_fen(world):
    record = services.income_record_save(
        user=world.village_cadre,
        household=world.household_a1,
        year=2025,
        wage_income=Decimal("10000"),
        business_income=Decimal("1000"),
        business_costs=Decimal("1500"),
        property_income=Decimal("0.01"),
    )
    assert record.total_net_income == Decimal("9500.01")
    assert record.per_capita_net_income == Decimal("3166.67")
    assert per_capita(Decimal("2"), 3) == Decimal("0.67")
    assert per_capita(Decimal("100"), 0) == Decimal("0.00")


def test_declared_total_must_equal_the_parts(world):
    with pytest.raises(ValidationError) as exc:
        services.income_record_save(
            user=world.village_cadre,
            household=world.household_a1,
            year=2025,
            wage_income=Decimal("5000"),
            declared_total=Decimal("5001"),
        )
    assert "不一致" in exc.value.message_dict["total_net_income"][0]
    record = services.income_record_save(
        user=world.village_cadre,
        household=world.household_a1,
        year=2025,
        wage_income=Decimal("5000"),
        declared_total=Decimal("5000"),
    )
    assert record.total_net_income == Decimal("5000")


def test_policy_transfer_cannot_exceed_transfer_income(world):
    with pytest.raises(ValidationError) as exc:
        services.income_record_save(
            user=world.village_cadre,
            household=world.household_a1,
            year=2025,
            transfer_income=Decimal("100"),
            policy_transfer_income=Decimal("200"),
        )
    assert "policy_transfer_income" in exc.value.message_dict


def test_household_without_living_members_has_no_per_capita_income(world):
    household = services.household_create(user=world.village_cadre, village=world.village_a1, number="S-1")
    with pytest.raises(ValidationError) as exc:
        services.income_record_save(user=world.village_cadre, household=household, year=2025)
    assert "没有在户成员" in exc.value.messages[0]


def test_one_annual_record_per_year(world):
    services.income_record_save(user=world.village_cadre, household=world.household_a1, year=2025)
    with pytest.raises(ValidationError) as exc:
        services.income_record_save(user=world.village_cadre, household=world.household_a1, year=2025)
    assert "已存在" in exc.value.message_dict["year"][0]
    services.income_record_save(user=world.village_cadre, household=world.household_a1, year=2025, month=3)
    assert IncomeRecord.objects.filter(household=world.household_a1).count() == 2


def test_new_year_income_starts_from_last_year(world):
    f.make_income(world.household_a1, 2023, wage_income=1000)
    f.make_income(world.household_a1, 2024, wage_income=8000, transfer_income=600, policy_transfer_income=600)
    initial = services.income_record_initial(world.household_a1, 2025)
    assert initial["year"] == 2025
    assert initial["wage_income"] == Decimal("8000")
    assert initial["policy_transfer_income"] == Decimal("600")
    assert services.income_record_initial(world.household_a2, 2025) == {"year": 2025}


def test_findings_flag_stale_household_size_after_a_death(world):
    this_year = datetime.date.today().year
    f.make_income(world.household_a1, this_year - 1, wage_income=9000)
    child = world.household_a1.members.filter(relation="child").first()
    services.member_update(user=world.village_cadre, member=child, status=Member.Status.DECEASED)
    codes = {finding.code for finding in services.findings_after_entry(world.household_a1)}
    assert "household_size" in codes


def test_findings_flag_a_working_child(world):
    kid = services.member_create(
        user=world.village_cadre,
        household=world.household_a1,
        name="小工",
        relation="child",
        id_number=idnumber.make(
            "440981", datetime.date.today().replace(year=datetime.date.today().year - 12, month=1, day=1), 33
        ),
        work_place="out_province",
        work_months=10,
    )
    findings = services.findings_after_entry(world.household_a1)
    assert any(x.code == "child_wage" and x.member_id == kid.pk for x in findings)
