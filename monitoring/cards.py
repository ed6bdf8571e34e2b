"""一户一码: one printable QR card per household, and what scanning it opens (issue 12).

The card carries the household number, the village, the contact person and the village's
hotline, and a QR code of /q/<card_token>/ — a random token, not the household id. Nothing
personal is printed (no head's name, ID number, phone or address).

Scanning: a signed-in user who may see the household is sent to its page; anyone else
(anonymous, out of scope, or a token that matches nothing) gets the same plain page saying
请联系村干部, byte for byte, so a card found in the street tells nothing about who lives there
and a guessed token cannot tell whether it exists.

Cards print one household at a time (`/households/<id>/card/`) or a whole village on A4
sheets of eight (`/cards/village/<village id>/`); both are scoped like the household pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import segno
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import SafeString, mark_safe

from households import selectors as household_selectors
from households.models import Area, Household, Role, RoleAssignment

from .models import OPEN_STATES, MonitoringCase

CARDS_PER_SHEET = 8


@dataclass(frozen=True)
class Card:
    number: str
    village: str
    contact: str
    hotline: str
    url: str
    qr: SafeString


def _qr_svg(url: str) -> SafeString:
    # Medium error correction survives a creased or dirty card; the SVG scales to any print size.
    svg = segno.make(url, error="m", micro=False).svg_inline(scale=4, border=2, omitsize=True)
    return mark_safe(svg)  # noqa: S308 - segno's own markup of a URL we built


def _person(user: Any) -> str:
    return user.get_full_name() or user.username


def _village_cadres(village_ids: set[int]) -> dict[int, str]:
    names: dict[int, list[str]] = {}
    assignments = (
        RoleAssignment.objects.filter(role=Role.VILLAGE_CADRE, area_id__in=village_ids)
        .select_related("user")
        .order_by("user__username")
    )
    for assignment in assignments:
        if assignment.user.is_active and assignment.area_id is not None:
            names.setdefault(assignment.area_id, []).append(_person(assignment.user))
    return {village: "、".join(people[:2]) for village, people in names.items()}


def cards_for(request: HttpRequest, households: list[Household]) -> list[Card]:
    """The cards of these households (already scoped by the caller), in the given order."""
    contacts = {
        case.household_id: _person(case.contact_person)
        for case in MonitoringCase.objects.filter(
            household__in=households, state__in=OPEN_STATES, contact_person__isnull=False
        ).select_related("contact_person")
    }
    cadres = _village_cadres({h.village_id for h in households})
    cards = []
    for household in households:
        village = household.village
        url = request.build_absolute_uri(reverse("monitoring:card-scan", args=[household.card_token]))
        cards.append(
            Card(
                number=household.number,
                village=f"{village.parent.name}{village.name}" if village.parent else village.name,
                contact=contacts.get(household.pk) or cadres.get(village.pk, "") or "村干部",
                hotline=village.card_hotline(),
                url=url,
                qr=_qr_svg(url),
            )
        )
    return cards


def _with_areas(queryset: Any) -> Any:
    return queryset.select_related("village__parent__parent")


@login_required
def household_card(request: HttpRequest, pk: int) -> HttpResponse:
    household = household_selectors.get_or_404(
        _with_areas(household_selectors.households_visible_to(request.user)), pk=pk
    )
    return render(
        request,
        "monitoring/household_cards.html",
        {"sheets": [cards_for(request, [household])], "title": f"一户一码 · {household.number}", "back": household},
    )


@login_required
def village_cards(request: HttpRequest, village_pk: int) -> HttpResponse:
    village = household_selectors.get_or_404(
        household_selectors.areas_visible_to(request.user, Area.Level.VILLAGE).select_related("parent"),
        pk=village_pk,
    )
    households = list(
        _with_areas(household_selectors.households_visible_to(request.user).filter(village=village)).order_by("number")
    )
    cards = cards_for(request, households)
    sheets = [cards[i : i + CARDS_PER_SHEET] for i in range(0, len(cards), CARDS_PER_SHEET)]
    return render(
        request,
        "monitoring/household_cards.html",
        {
            "sheets": sheets,
            "title": f"一户一码 · {village.parent.name if village.parent else ''}{village.name}",
            "village": village,
            "count": len(cards),
        },
    )


def card_scan(request: HttpRequest, token: str) -> HttpResponse:
    """What a scanned card opens. No login required: the answer for anyone who may not see
    the household is the same page whatever the token, with status 200."""
    if request.user.is_authenticated:
        household = household_selectors.households_visible_to(request.user).filter(card_token=token).first()
        if household is not None:
            return redirect("households:detail", pk=household.pk)
    return render(request, "monitoring/card_contact.html", {"login_next": request.path})


page_urls = [
    path("households/<int:pk>/card/", household_card, name="household-card"),
    path("cards/village/<int:village_pk>/", village_cards, name="village-cards"),
    path("q/<str:token>/", card_scan, name="card-scan"),
]
