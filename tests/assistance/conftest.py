"""A monitored case (因病, with 因残 secondary; determined 9 March 2026) followed by a contact
person with no area role, in the shared world of tests/conftest.py."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from assistance.catalogue import install_default_catalogue
from monitoring.models import State
from tests.monitoring.cases import add_users, case_at

CST = ZoneInfo("Asia/Shanghai")
# Two days after determination: the plan is due by 24 March.
T_PLAN = datetime.datetime(2026, 3, 11, 10, tzinfo=CST)


@pytest.fixture
def w(world):
    install_default_catalogue()  # a flushed database (transactional tests) lost the migration's rows
    add_users(world)
    world.case = case_at(world, State.MONITORED, contact_person=world.contact)
    return world


@pytest.fixture
def on_plan_day():
    with time_machine.travel(T_PLAN, tick=False):
        yield
