"""What every page shares (issue 13): the navigation per role, the footer with the API docs,
the way back from the docs, the icon, where each kind of user lands, the demo logins on the
login page in demo mode only, and the wording of empty dropdown choices."""

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse

from tests import factories as f
from tests.monitoring.cases import DISCOVERED, T_REVIEW, report

pytestmark = pytest.mark.django_db


def nav_html(client, user, url="/inbox/"):
    client.force_login(user)
    body = client.get(url).content.decode()
    return body[body.index('<nav class="nav"') : body.index("</nav>")], body


def test_api_docs_are_in_the_menu_only_for_administrators_and_in_everyones_footer(client, world):
    nav, body = nav_html(client, world.village_cadre)
    assert "API 文档" not in nav
    assert "管理后台" not in nav
    footer = body[body.index('<footer class="site-footer">') :]
    assert reverse("api-docs") in footer
    client.logout()
    world.admin.is_staff = True
    world.admin.save()
    nav, _ = nav_html(client, world.admin)
    assert "API 文档" in nav and "管理后台" in nav


def test_the_api_docs_page_leads_back_to_the_application(client, world):
    client.force_login(world.village_cadre)
    body = client.get(reverse("api-docs")).content.decode()
    assert 'href="/"' in body and "返回防止返贫监测帮扶系统" in body
    assert "<script>" not in body  # the CSP forbids inline script: the page loads its script file


def test_the_icon_is_a_real_file_and_favicon_ico_leads_to_it(client, world):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 302
    assert answer["Location"].endswith("img/favicon.ico")
    client.force_login(world.village_cadre)
    body = client.get("/inbox/").content.decode()
    assert 'rel="icon" href="/static/img/favicon.svg"' in body


def test_the_phone_menu_holds_the_same_links_as_the_bar(client, world):
    nav, _ = nav_html(client, world.county_officer)
    bar = nav[: nav.index('<details class="nav-more">')]
    menu = nav[nav.index('<details class="nav-more">') :]
    for label in ("我的待办", "监测对象", "农户登记", "预警", "数据质量", "部门筛查"):
        assert label in bar and label in menu, label
    assert bar.count('id="nav-warnings"') == 1 and 'id="nav-warnings"' not in menu


def test_department_staff_land_on_their_uploads_and_see_only_screening(client, world):
    client.force_login(world.department_staff)
    assert client.get("/")["Location"] == reverse("screening:home")
    nav, _ = nav_html(client, world.department_staff, reverse("screening:home"))
    assert "部门筛查" in nav
    for label in ("我的待办", "监测对象", "农户登记", "数据质量"):
        assert label not in nav, label


def test_a_contact_person_lands_on_my_assistance_and_everyone_else_on_the_inbox(client, world):
    helper = f.UserFactory(username="helper")
    client.force_login(helper)
    assert client.get("/")["Location"] == reverse("assistance:mine")
    nav, _ = nav_html(client, helper, reverse("assistance:mine"))
    assert nav.index("我的帮扶") < nav.index("我的待办")
    client.force_login(world.village_cadre)
    assert client.get("/")["Location"] == reverse("monitoring:inbox")


def test_the_login_page_lists_the_demo_logins_only_in_demo_mode(client, world, settings):
    settings.FANPIN_DEMO_MODE = False
    assert "演示账号" not in client.get(reverse("login")).content.decode()
    settings.FANPIN_DEMO_MODE = True
    settings.FANPIN_DEMO_PASSWORD = "demo-pass"
    body = client.get(reverse("login")).content.decode()
    assert "演示账号" in body and "demo-pass" in body
    # The demo usernames that exist (the test world reuses them) with their role; nobody else.
    assert ">village<" in body and "村干部" in body and ">county<" in body
    assert "nobody" not in body


def test_empty_dropdown_choices_say_please_choose(client, world):
    client.force_login(world.village_cadre)
    body = client.get(reverse("monitoring:case-create"), {"household": world.household_a1.pk}).content.decode()
    assert "---------" not in body
    assert "请选择" in body
    # Filters: an unchosen filter means any.
    body = client.get(reverse("monitoring:case-list")).content.decode()
    assert "---------" not in body


def test_amounts_read_with_thousands_and_yuan():
    rendered = Template("{% load amounts %}{{ a|yuan }}|{{ b|yuan }}|{{ c|yuan }}").render(
        Context({"a": 12345.5, "b": None, "c": "0"})
    )
    assert rendered == "12,345.50 元|—|0.00 元"


def test_the_timeline_orders_by_the_day_things_happened(world):
    """The visit that found the risk, entered after the report, comes before the report made
    that day; a visit entered late sits on its own day, before steps recorded earlier."""
    from monitoring import selectors, services

    w = world
    case = report(w)  # recorded 2026-03-02 10:00, discovered 2026-03-01
    with time_machine.travel(T_REVIEW, tick=False):
        finding = services.visit_create(
            user=w.village_cadre,
            household=case.household,
            visited_on=DISCOVERED,
            visitors="王五、李四",
            findings="发现户主住院",
        )
    items = selectors.timeline(case)
    assert items[0] == finding, [str(i) for i in items]
    labels = [getattr(i, "label", "visit") for i in items]
    assert labels.index("visit") < labels.index("申报监测对象")
