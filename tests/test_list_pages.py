"""The list pages as a desk tool (issue 13 point 1): sortable columns that keep the filters,
the count of matches, and the village filter chained to the town."""

import re

import pytest
from django.urls import reverse

from tests import factories as f
from tests.monitoring.cases import report

pytestmark = pytest.mark.django_db


def numbers_in_order(html, numbers):
    found = [(html.index(n), n) for n in numbers if n in html]
    return [n for _, n in sorted(found)]


def test_the_case_list_sorts_by_a_column_and_back(client, world):
    w = world
    second = f.make_household(w.village_a1, members=1)
    report(w)
    report(w, household=second)
    client.force_login(w.village_cadre)
    numbers = [w.household_a1.number, second.number]
    up = client.get(reverse("monitoring:case-list"), {"sort": "number"}).content.decode()
    assert numbers_in_order(up, numbers) == sorted(numbers)
    assert 'aria-sort="ascending"' in up
    down = client.get(reverse("monitoring:case-list"), {"sort": "-number"}).content.decode()
    assert numbers_in_order(down, numbers) == sorted(numbers, reverse=True)
    # An unknown column falls back to the default order instead of reaching the query.
    assert client.get(reverse("monitoring:case-list"), {"sort": "household__id_number"}).status_code == 200


def test_a_sort_link_keeps_the_filters_and_starts_again_at_page_one(client, world):
    report(world)
    client.force_login(world.county_officer)
    html = client.get(reverse("monitoring:case-list"), {"stage": "open", "page": "1"}).content.decode()
    link = re.search(r'<a class="sort" href="\?([^"]+)">户编号', html).group(1)
    assert "stage=open" in link and "sort=number" in link and "page=" not in link


def test_the_count_says_how_many_match_the_filters(client, world):
    report(world)
    client.force_login(world.county_officer)
    html = client.get(reverse("monitoring:case-list")).content.decode()
    assert "共 <strong>1</strong> 个监测对象" in html
    html = client.get(reverse("monitoring:case-list"), {"town": world.town_b.pk}).content.decode()
    assert "符合条件的 <strong>0</strong> 个监测对象" in html


def test_each_village_choice_names_its_town_for_the_chained_filter(client, world):
    client.force_login(world.county_officer)
    for url in (reverse("monitoring:case-list"), reverse("households:list")):
        html = client.get(url).content.decode()
        assert 'data-chain-parent="town"' in html
        assert f'value="{world.village_b1.pk}" data-parent="{world.town_b.pk}"' in html
        assert "js/lists.js" in html


def test_the_household_list_sorts_by_village_and_each_card_opens_the_household(client, world):
    client.force_login(world.county_officer)
    html = client.get(reverse("households:list"), {"sort": "-village"}).content.decode()
    assert 'aria-sort="descending"' in html
    assert "rows-link" in html  # the whole phone card is the link (app.css)
