import pytest

from tests.reports.county import build_board


@pytest.fixture
def board(world):
    """The hand-counted county of tests/reports/county.py."""
    return build_board(world)
