"""一户一码 (issue 12 point 7): a printable QR card per household, and what scanning it opens.

The card shows the household number, the village, the contact person and the hotline, never
anything personal; its QR code holds a random token. Scanning opens the household page for a
signed-in user in scope and the same plain "请联系村干部" page for everyone else, whatever the
token: the answer never tells whether a card exists or whose it is.
"""

import re

import pytest
from django.test import Client

from households.models import Household
from tests import factories as f
from tests.monitoring import cases

pytestmark = pytest.mark.django_db


def _client(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _unmasked(html):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def _scan_url(household):
    return f"/q/{household.card_token}/"


def test_every_household_gets_its_own_unguessable_token(world):
    tokens = set(Household.objects.values_list("card_token", flat=True))
    assert len(tokens) == Household.objects.count() == 4
    household = world.household_a1
    assert len(household.card_token) >= 20 and str(household.pk) not in household.card_token.split("-")
    assert household.card_token not in (household.number, str(household.pk))


def test_the_card_shows_number_village_contact_and_hotline_and_nothing_personal(world):
    household = world.household_a1
    world.village_cadre.first_name = "王村官"
    world.village_cadre.save()
    world.town_a.hotline = "0371-12345678"
    world.town_a.save()
    head = household.members.get(relation="head")

    page = _client(world.village_cadre).get(f"/households/{household.pk}/card/")
    assert page.status_code == 200
    text = page.content.decode()
    assert household.number in text and "东山镇东山村" in text
    assert "王村官" in text
    assert "0371-12345678" in text  # the village has none: its town's
    for personal in (head.name, head.id_number, household.phone, household.address):
        assert personal not in text
    svg = re.search(r"<svg.*?</svg>", text, re.S)
    assert svg is not None
    # The QR code encodes the scan address with the token, not the household id.
    assert f'title="http://testserver/q/{household.card_token}/"' in text


def test_the_contact_person_of_an_open_case_is_on_the_card_and_the_village_hotline_wins(world):
    cases.add_users(world)
    world.contact.first_name = "李帮扶"
    world.contact.save()
    cases.report(world, contact_person=world.contact)
    world.village_a1.hotline = "12317"
    world.village_a1.save()
    world.county.hotline = "0371-99999999"
    world.county.save()
    text = _client(world.village_cadre).get(f"/households/{world.household_a1.pk}/card/").content.decode()
    assert "李帮扶" in text and "12317" in text and "0371-99999999" not in text


def test_a_card_out_of_scope_is_not_found(world):
    for user in (world.village_cadre_b, world.nobody):
        assert _client(user).get(f"/households/{world.household_a1.pk}/card/").status_code == 404
    assert _client().get(f"/households/{world.household_a1.pk}/card/").status_code == 302  # to the login


def test_scanning_in_scope_opens_the_household_page(world):
    for user in (world.village_cadre, world.town_official, world.county_officer):
        answer = _client(user).get(_scan_url(world.household_a1))
        assert answer.status_code == 302 and answer["Location"] == f"/households/{world.household_a1.pk}/"


def test_scanning_out_of_scope_or_anonymous_says_contact_the_cadre_and_tells_nothing(world):
    household = world.household_a1
    unknown = "A" * len(household.card_token)
    for user in (None, world.village_cadre_b, world.nobody, world.department_staff):
        client = _client(user)
        real = client.get(_scan_url(household))
        fake = client.get(f"/q/{unknown}/")
        assert real.status_code == fake.status_code == 200
        text = real.content.decode()
        assert "请联系村干部" in text
        assert household.number not in text and "东山" not in text
        # The same answer as a token that matches nothing, apart from the address echoed in
        # the login link and the per-render mask of the logout form's CSRF token.
        assert _unmasked(text.replace(household.card_token, unknown)) == _unmasked(fake.content.decode())


def test_village_cards_print_in_a4_sheets_of_eight_in_scope_only(world):
    for _ in range(8):
        f.make_household(world.village_a1, members=1)
    page = _client(world.village_cadre).get(f"/cards/village/{world.village_a1.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('class="card-sheet"') == 2 and text.count('class="household-card"') == 9
    assert "共 9 户" in text
    assert world.household_a2.number not in text
    assert _client(world.village_cadre_b).get(f"/cards/village/{world.village_a1.pk}/").status_code == 404
    town = _client(world.town_official).get(f"/cards/village/{world.village_a1.pk}/")
    assert town.status_code == 200


def test_the_household_page_links_to_its_card(world):
    text = _client(world.village_cadre).get(f"/households/{world.household_a1.pk}/").content.decode()
    assert f'href="/households/{world.household_a1.pk}/card/"' in text


def test_the_hotline_setting_accepts_service_numbers_and_refuses_letters(world):
    from django.core.exceptions import ValidationError

    world.village_a1.hotline = "12317"
    world.village_a1.full_clean()
    world.village_a1.hotline = "call me"
    with pytest.raises(ValidationError):
        world.village_a1.full_clean()
