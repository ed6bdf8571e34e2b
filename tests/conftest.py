"""Shared world for the suite: two counties' worth of areas and one user per role.

county ── town_a ── village_a1, village_a2
       └─ town_b ── village_b1
other_county ── other_town ── other_village
"""

import pytest

from households.models import Role
from tests import factories as f

# Fixtures shared by several test packages, registered here instead of imported (an imported
# fixture shadows itself as a parameter name and linters rightly flag it).
pytest_plugins = ["tests.celery_fixtures"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters (local-memory cache in tests) start from zero in every test."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory):
    """Uploads (commitment scans, photos) go to a temporary directory, never the worktree."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture
def world(db):
    class World:
        pass

    w = World()
    w.county = f.make_county("示例县")
    w.town_a = f.make_town(w.county, "东山镇")
    w.town_b = f.make_town(w.county, "西河镇")
    w.village_a1 = f.make_village(w.town_a, "东山村")
    w.village_a2 = f.make_village(w.town_a, "南岭村")
    w.village_b1 = f.make_village(w.town_b, "西河村")
    w.other_county = f.make_county("邻县")
    w.other_town = f.make_town(w.other_county, "邻镇")
    w.other_village = f.make_village(w.other_town, "邻村")
    w.department = f.make_department(w.county)

    w.admin = f.user_with_role("admin", Role.ADMINISTRATOR)
    w.county_officer = f.user_with_role("county", Role.COUNTY_OFFICER, area=w.county)
    w.town_official = f.user_with_role("town", Role.TOWN_OFFICIAL, area=w.town_a)
    w.village_cadre = f.user_with_role("village", Role.VILLAGE_CADRE, area=w.village_a1)
    w.village_cadre_b = f.user_with_role("village_b", Role.VILLAGE_CADRE, area=w.village_b1)
    w.department_staff = f.user_with_role("medical", Role.DEPARTMENT_STAFF, department=w.department)
    w.nobody = f.UserFactory(username="nobody")

    w.household_a1 = f.make_household(w.village_a1, members=3)
    w.household_a2 = f.make_household(w.village_a2, members=2)
    w.household_b1 = f.make_household(w.village_b1, members=2)
    w.household_other = f.make_household(w.other_village, members=1)
    return w
