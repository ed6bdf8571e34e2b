"""The demo county of `manage.py seed_demo` (issue 2 item 7)."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from fanpin import demo as fanpin_demo
from households import demo, idnumber, quality, selectors
from households.models import Area, Department, Household, IncomeRecord, Member, Role, per_capita

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(settings, monkeypatch):
    """The registry alone: monitoring.demo's cases are its own tests' business (and slow)."""
    settings.FANPIN_DEMO_PASSWORD = "demo-pass-1"
    return demo.build_registry(households_per_village=5).logins()


def test_seed_builds_one_county_three_towns_twelve_villages_and_every_department(built):
    county = demo.demo_county()
    assert county.name == "清河县"
    assert Area.objects.filter(parent=county, level=Area.Level.TOWN).count() == 3
    assert Area.objects.filter(path__startswith=county.path, level=Area.Level.VILLAGE).count() == 12
    assert Household.objects.count() == 60
    assert set(Department.objects.filter(county=county).values_list("kind", flat=True)) == set(Department.Kind.values)


def test_demo_logins_sign_in_with_the_demo_password_and_hold_their_roles(built):
    county = demo.demo_county()
    towns = list(county.children.order_by("code"))
    expected = {
        "admin": (Role.ADMINISTRATOR, None),
        "county": (Role.COUNTY_OFFICER, county),
        "town": (Role.TOWN_OFFICIAL, towns[0]),
        "village": (Role.VILLAGE_CADRE, towns[0].children.order_by("code").first()),
        "village_b": (Role.VILLAGE_CADRE, towns[1].children.order_by("code").first()),
    }
    for username, (role, area) in expected.items():
        user = authenticate(username=username, password="demo-pass-1")
        assert user is not None, username
        [assignment] = selectors.user_roles(user)
        assert (assignment.role, assignment.area) == (role, area), username
    admin = authenticate(username="admin", password="demo-pass-1")
    assert admin.is_superuser and admin.is_staff
    medical = authenticate(username="medical", password="demo-pass-1")
    [assignment] = selectors.user_roles(medical)
    assert assignment.role == Role.DEPARTMENT_STAFF
    assert assignment.department.kind == Department.Kind.MEDICAL_INSURANCE
    assert {login.username for login in built} == {*expected, "medical"}


def test_village_cadre_sees_only_the_first_village_and_town_official_only_the_first_town(built):
    village = authenticate(username="village", password="demo-pass-1")
    town = authenticate(username="town", password="demo-pass-1")
    county = authenticate(username="county", password="demo-pass-1")
    assert selectors.households_visible_to(village).count() == 5
    assert selectors.households_visible_to(town).count() == 20
    assert selectors.households_visible_to(county).count() == 60
    assert not selectors.households_visible_to(village).exclude(village=selectors.user_roles(village)[0].area).exists()


def test_every_member_has_a_valid_id_matching_birth_date_and_sex(built):
    for member in Member.objects.all():
        parsed = idnumber.parse(member.id_number)
        assert (parsed.birth_date, parsed.sex) == (member.birth_date, member.sex)
        assert member.id_number.startswith("440983")


def test_members_ages_fit_their_relation_and_household_sizes_are_1_to_6(built):
    for household in Household.objects.prefetch_related("members"):
        members = list(household.members.all())
        assert 1 <= len(members) <= 6
        head = household.head
        assert 30 <= head.age <= 75
        for member in members:
            if member.relation == Member.Relation.CHILD:
                assert member.age <= head.age - 20
            if member.relation == Member.Relation.PARENT:
                assert member.age >= head.age + 20


def test_income_records_cover_three_years_with_per_capita_from_the_living_members(built):
    # monitoring.demo may add later records for its cases; the registry's own are annual 2023-2025.
    for year in demo.INCOME_YEARS:
        assert IncomeRecord.objects.filter(year=year, month__isnull=True).count() == 60
    for record in IncomeRecord.objects.select_related("household"):
        assert record.total_net_income == record.computed_total()
        assert record.household_size == len(record.household.active_members())
        assert record.per_capita_net_income == per_capita(record.total_net_income, record.household_size)


def test_data_quality_findings_are_rare(settings):
    demo.build_registry(households_per_village=25)
    report = quality.registry_findings(quality.prefetch_for_checks(Household.objects.all()))
    # A couple of deliberate cases (one in DELIBERATE_FINDING_EVERY households), nothing more.
    assert 1 <= len(report) <= 300 // demo.DELIBERATE_FINDING_EVERY
    assert {f.code for _, findings in report for f in findings} <= {"child_wage", "student_wage", "unable_wage"}


def test_running_twice_does_not_duplicate_and_reset_rebuilds(built, settings):
    numbers = set(Household.objects.values_list("number", flat=True))
    settings.FANPIN_DEMO_PASSWORD = "changed-pass-2"
    fanpin_demo.build_demo(households_per_village=5)
    assert set(Household.objects.values_list("number", flat=True)) == numbers
    assert Area.objects.filter(name="清河县").count() == 1
    # A new DEMO_PASSWORD takes effect without a reset.
    assert authenticate(username="village", password="changed-pass-2") is not None

    fanpin_demo.build_demo(households_per_village=2, reset=True)
    assert Household.objects.count() == 24
    assert Area.objects.filter(name="清河县").count() == 1
    assert authenticate(username="village", password="changed-pass-2") is not None


def test_seed_demo_command_prints_the_logins_table(settings):
    settings.FANPIN_DEMO_PASSWORD = "shown-pass"
    out = io.StringIO()
    call_command("seed_demo", "--households-per-village", "1", stdout=out)
    text = out.getvalue()
    for username in ("admin", "county", "town", "village", "village_b", "medical"):
        assert f"\n{username} " in text
    assert "shown-pass" in text
    assert "清河县城关镇东关村" in text


def test_build_puts_the_layers_together_bottom_up_and_a_reset_wipes_top_down(monkeypatch):
    """fanpin/demo.py is the one place that knows every layer: registry → cases up to monitored →
    measures → elimination steps; a reset removes measures, then cases, then the registry."""
    from assistance import demo as assistance_demo
    from monitoring import demo as monitoring_demo
    from monitoring.declarations import demo as declarations_demo
    from screening import demo as screening_demo

    calls = []

    class Seeding:
        created, monitored, eliminating = 3, [1, 2], [2]

        def finish(self):
            calls.append(("eliminate",))

    def seed_cases(*, county, users, before_determination):
        # The county determinations first record the asset comparison, which screening provides.
        assert before_determination is screening_demo.record_comparison
        calls.append(("cases", county.name, Household.objects.count(), sorted(users)))
        return Seeding()

    def seed_measures(*, county, cases, eliminating):
        calls.append(("measures", cases, eliminating))

    monkeypatch.setattr(monitoring_demo, "seed_cases", seed_cases)
    monkeypatch.setattr(assistance_demo, "seed_measures", seed_measures)
    monkeypatch.setattr(assistance_demo, "wipe_measures", lambda county: calls.append(("wipe measures",)))
    monkeypatch.setattr(
        monitoring_demo, "wipe_cases", lambda county: calls.append(("wipe cases", Household.objects.count()))
    )
    monkeypatch.setattr(screening_demo, "seed_warnings", lambda *, county, users: calls.append(("warnings",)) or 0)
    monkeypatch.setattr(screening_demo, "wipe_warnings", lambda county: calls.append(("wipe warnings",)))
    monkeypatch.setattr(
        declarations_demo, "seed_declarations", lambda *, county, users: calls.append(("declarations",)) or 0
    )
    monkeypatch.setattr(declarations_demo, "wipe_declarations", lambda county: calls.append(("wipe declarations",)))
    fanpin_demo.build_demo(households_per_village=1)
    fanpin_demo.build_demo(households_per_village=1)  # already built: no second seeding
    fanpin_demo.build_demo(households_per_village=1, reset=True)
    users = sorted(["admin", "county", "town", "village", "village_b", "medical"])
    built = [
        ("cases", "清河县", 12, users),
        ("measures", [1, 2], [2]),
        ("eliminate",),
        ("warnings",),
        ("declarations",),
    ]
    wiped = [("wipe warnings",), ("wipe measures",), ("wipe declarations",), ("wipe cases", 12)]
    assert calls == [*built, *wiped, *built]


def test_no_lower_layer_demo_imports_a_higher_one():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    above = {
        "households": ("monitoring", "assistance", "screening", "fanpin"),
        "monitoring": ("assistance", "screening", "fanpin"),
    }
    for app, higher in above.items():
        tree = ast.parse((root / app / "demo.py").read_text())
        imported = {
            (node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        assert not imported & set(higher), (app, imported & set(higher))
