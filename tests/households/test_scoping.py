from households import selectors


def visible(user):
    return set(selectors.households_visible_to(user).values_list("number", flat=True))


def test_village_cadre_sees_only_own_village(world):
    assert visible(world.village_cadre) == {world.household_a1.number}


def test_town_official_sees_all_villages_of_the_town(world):
    assert visible(world.town_official) == {world.household_a1.number, world.household_a2.number}


def test_county_officer_sees_the_county_but_not_the_neighbour(world):
    assert visible(world.county_officer) == {
        world.household_a1.number,
        world.household_a2.number,
        world.household_b1.number,
    }


def test_administrator_sees_every_county(world):
    assert world.household_other.number in visible(world.admin)


def test_user_without_role_and_department_staff_see_no_registry(world):
    assert visible(world.nobody) == set()
    assert visible(world.department_staff) == set()


def test_registry_write_scope(world):
    assert selectors.can_edit_household(world.village_cadre, world.household_a1)
    assert not selectors.can_edit_household(world.village_cadre, world.household_a2)
    assert not selectors.can_edit_household(world.town_official, world.household_a1)
    assert selectors.can_edit_household(world.county_officer, world.household_b1)
