"""Registry pages: list, detail, create/edit of households, members and income."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from households import idnumber
from households.models import Household, IncomeRecord, Member, PersonalDataView
from tests import factories as f


def wrong_check_digit(number):
    return number[:17] + ("0" if number[17] != "0" else "1")


def impossible_date_id():
    first17 = "440981" + "19800230" + "123"  # 30 February
    return first17 + idnumber.check_char(first17)


def household_post(village, number="HH-NEW-001", **extra):
    data = {
        "number": number,
        "village": village.pk,
        "address": "二组 3 号",
        "phone": "13912345678",
        "household_type": Household.Type.ORDINARY,
        "bank_account": "",
        "bank_name": "",
    }
    for key, _ in Household.SECURITY_ITEMS:
        data[f"{key}_secure"] = "on"
        data[f"{key}_note"] = ""
    data.update(extra)
    return data


def member_post(prefix="", **values):
    data = {
        "name": "张三",
        "id_number": f.valid_id(),
        "relation": Member.Relation.CHILD,
        "status": Member.Status.ACTIVE,
        "phone": "",
        "health": Member.Health.HEALTHY,
        "disability_category": "",
        "disability_level": "",
        "labour_capacity": Member.Labour.NORMAL,
        "schooling": "",
        "work_place": "",
        "work_months": "0",
        "medical_insurance": "on",
    }
    data.update(values)
    if prefix:
        data = {f"{prefix}-{k}": v for k, v in data.items() if k not in ("relation", "status")}
    return data


def income_post(year=2026, **values):
    data = {
        "year": year,
        "month": "",
        "wage_income": "20000",
        "business_income": "5000",
        "business_costs": "1000",
        "property_income": "0",
        "transfer_income": "3000",
        "policy_transfer_income": "1000",
        "medical_expense": "0",
        "education_expense": "0",
        "declared_total": "",
        "note": "",
    }
    data.update({k: str(v) for k, v in values.items()})
    return data


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


# --- login, layout ----------------------------------------------------------------------


def test_anonymous_user_is_sent_to_login(client, world):
    response = client.get(reverse("households:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_chinese_and_logs_in(client, world):
    page = client.get(reverse("login"))
    assert '<html lang="zh-Hans">' in page.content.decode()
    response = client.post(reverse("login"), {"username": "village", "password": f.PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("monitoring:inbox")


def test_login_with_a_wrong_password_stays_on_the_form_with_a_chinese_message(client, world):
    response = client.post(reverse("login"), {"username": "village", "password": "wrong-password"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_button_in_the_header(login, world):
    client = login(world.village_cadre)
    html = client.get(reverse("households:list")).content.decode()
    assert f'action="{reverse("logout")}"' in html
    response = client.post(reverse("logout"))
    assert response.url == reverse("login")
    assert client.get(reverse("households:list")).status_code == 302


def test_header_shows_user_roles_and_staff_only_admin_link(login, world):
    html = login(world.village_cadre).get(reverse("households:list")).content.decode()
    assert "村干部/驻村工作队·东山村" in html
    assert "管理后台" not in html
    world.village_cadre.is_staff = True
    world.village_cadre.save()
    assert "管理后台" in login(world.village_cadre).get(reverse("households:list")).content.decode()


def test_unknown_page_answers_chinese_404(login, world):
    response = login(world.village_cadre).get(reverse("households:detail", args=[world.household_b1.pk]))
    assert response.status_code == 404
    assert "不在您的工作范围内" in response.content.decode()


def _current_nav_links(html):
    # The bar (the 更多 menu repeats its links for a phone).
    nav = html[html.index('aria-label="主导航"') :].split('<details class="nav-more">')[0]
    return re.findall(r'aria-current="page">([^<]+)</a>', nav)


@pytest.mark.parametrize(
    "url_name, args, section",
    [
        ("monitoring:inbox", [], "我的待办"),
        ("monitoring:case-list", [], "监测对象"),
        ("households:list", [], "农户登记"),
        ("households:detail", ["household_a1"], "农户登记"),
        ("monitoring:visit-create", ["household_a1"], "农户登记"),
        ("households:quality", [], "数据质量"),
        ("households:import", [], "批量导入"),
    ],
)
def test_navigation_marks_the_section_of_the_current_page(login, world, url_name, args, section):
    url = reverse(url_name, args=[getattr(world, a).pk for a in args])
    html = login(world.village_cadre).get(url).content.decode()
    assert _current_nav_links(html) == [section]


def test_import_link_is_shown_only_to_roles_that_may_import(login, world):
    import_url = reverse("households:import")
    for user in (world.village_cadre, world.county_officer):
        assert f'href="{import_url}"' in login(user).get(reverse("monitoring:inbox")).content.decode()
    for user in (world.town_official, world.department_staff, world.nobody):
        html = login(user).get(reverse("monitoring:inbox")).content.decode()
        assert f'href="{import_url}"' not in html  # it would only lead to a 403 page
        assert login(user).get(import_url).status_code == 403


@pytest.mark.parametrize("url_name", ["monitoring:inbox", "monitoring:case-list", "households:list"])
def test_department_staff_see_why_their_lists_are_empty(login, world, url_name):
    response = login(world.department_staff).get(reverse(url_name))
    html = response.content.decode()
    assert response.status_code == 200
    assert "行业部门人员" in html and world.department.name in html and "本部门上传的筛查数据" in html
    html = login(world.nobody).get(reverse(url_name)).content.decode()
    assert "还没有分配角色" in html
    html = login(world.village_cadre).get(reverse(url_name)).content.decode()
    assert "本部门上传的筛查数据" not in html and "还没有分配角色" not in html


# --- list ---------------------------------------------------------------------------------


def test_list_shows_only_households_in_scope(login, world):
    html = login(world.village_cadre).get(reverse("households:list")).content.decode()
    assert world.household_a1.number in html
    assert world.household_a2.number not in html
    assert world.household_b1.number not in html
    html = login(world.town_official).get(reverse("households:list")).content.decode()
    assert world.household_a1.number in html and world.household_a2.number in html
    assert world.household_b1.number not in html


def test_list_masks_id_numbers(login, world):
    head = world.household_a1.head
    html = login(world.village_cadre).get(reverse("households:list")).content.decode()
    assert head.id_number not in html
    assert idnumber.mask(head.id_number) in html
    assert head.name in html


def test_list_shows_size_latest_per_capita_and_special_groups(login, world):
    f.make_income(world.household_a1, year=2024, wage_income=3000)
    f.make_income(world.household_a1, year=2025, wage_income=9000)
    child = world.household_a1.members.exclude(relation=Member.Relation.HEAD).first()
    child.health = Member.Health.SERIOUS
    child.save()
    response = login(world.village_cadre).get(reverse("households:list"))
    row = response.context["page"].object_list[0]
    assert row.size == 3
    assert row.latest_per_capita_income == Decimal("3000.00")
    html = response.content.decode()
    assert "3,000.00 元" in html and "大病/慢性病" in html


def test_list_search_by_name_number_and_id_number(login, world):
    client = login(world.county_officer)
    head_b1 = world.household_b1.head

    def numbers(q):
        response = client.get(reverse("households:list"), {"q": q})
        return {h.number for h in response.context["page"].object_list}

    assert numbers(head_b1.name) == {world.household_b1.number}
    assert numbers(world.household_a2.number) == {world.household_a2.number}
    assert numbers(head_b1.id_number[-6:].lower()) == {world.household_b1.number}
    assert numbers(world.household_other.head.name) == set()  # outside the county


@pytest.mark.parametrize("read_at_once", [2000, 1])
def test_search_reads_the_households_found_first_and_finds_the_same(login, world, monkeypatch, read_at_once):
    """households.selectors.household_search_found: the ids found read first (at most
    SEARCH_IDS_READ_AT_ONCE of them, else the lookups stay in the page's queries): the same
    households, counts and pages as household_search_q."""
    from households import selectors

    monkeypatch.setattr(selectors, "SEARCH_IDS_READ_AT_ONCE", read_at_once)
    extra = f.make_household(world.village_b1, members=2)
    head_b1 = world.household_b1.head
    villages = selectors.scope_village_ids(world.county_officer)
    scoped = selectors.households_visible_to(world.county_officer)
    for term in (head_b1.name, head_b1.id_number, head_b1.id_number[6:14], world.household_a2.number[:2], "无此人", ""):
        found = set(scoped.filter(selectors.household_search_found(term, villages)).values_list("pk", flat=True))
        assert found == set(scoped.filter(selectors.household_search_q(term, villages)).values_list("pk", flat=True))
    response = login(world.county_officer).get(reverse("households:list"), {"q": world.household_b1.number[:2]})
    assert response.context["page"].paginator.count == 4 and extra in response.context["page"].object_list


def test_long_number_and_id_terms_find_what_icontains_finds(world):
    """A term longer than SEARCH_INDEX_TAIL is looked up in the index by its tail and checked
    whole (households.selectors._contains): the same rows as icontains of the whole term."""
    from households import selectors

    head = world.household_b1.head
    Household.objects.filter(pk=world.household_a2.pk).update(number="AB%_12345678x")
    other_tail = head.id_number[:-7] + "0" + head.id_number[-6:]  # the same last six, not the whole
    terms = [
        head.id_number,
        head.id_number.lower(),
        head.id_number[6:14],
        other_tail,
        "%_12345678X",
        "_1234567",
        "ab%_",
    ]
    for term in terms:
        for queryset, field in ((Household.objects.all(), "number"), (Member.objects.all(), "id_number")):
            plain = set(queryset.filter(**{f"{field}__icontains": term}).values_list("pk", flat=True))
            assert set(selectors._contains(queryset, field, term, "icontains").values_list("pk", flat=True)) == plain
    assert selectors._contains(Household.objects.all(), "number", "%_12345678X", "icontains").count() == 1
    assert not selectors._contains(Member.objects.all(), "id_number", other_tail, "icontains").filter(pk=head.pk)


# The household list's row loop as the template wrote it before households.templatetags.lists
# .household_rows wrote the rows in Python.
ROWS_TEMPLATE = """{% load amounts %}  {% for h in page.object_list %}
    <tr role="row">
      <td role="cell" data-label="户编号"><a href="{{ h.detail_url }}">{{ h.number }}</a></td>
      <td role="cell" data-label="户主">{{ h.head_name|default:"（未登记户主）" }}</td>
      <td role="cell" class="mono" data-label="户主身份证号">{{ h.masked_head_id }}</td>
      <td role="cell" data-label="村">{{ h.village_label }}</td>
      <td role="cell" data-label="户类型">{{ h.get_household_type_display }}{% if h.relocated %} <span class="badge badge-muted">搬迁</span>{% endif %}</td>
      <td role="cell" class="num" data-label="人口">{{ h.size }}</td>
      <td role="cell" class="num" data-label="人均纯收入">{% if h.latest_per_capita_income is not None %}{{ h.latest_per_capita_income|yuan }} <small class="muted">({{ h.latest_income_year }})</small>{% else %}—{% endif %}</td>
      <td role="cell" data-label="特殊群体">{% for label in h.special_groups %}<span class="badge badge-warn">{{ label }}</span>{% endfor %}</td>
    </tr>
  {% endfor %}"""


def test_list_rows_are_the_html_the_template_loop_wrote(login, world):
    from django.template import Context, Template

    f.make_income(world.household_a1, year=2025, wage_income=12345, transfer_income=1)
    Household.objects.filter(pk=world.household_a2.pk).update(
        relocated=True, household_type=Household.Type.FORMERLY_POOR
    )
    Member.objects.filter(household=world.household_a2).update(health=Member.Health.SERIOUS)
    Member.objects.filter(household=world.household_b1, relation=Member.Relation.HEAD).update(name="<b>&张</b>")
    Household.objects.create(number="NOHEAD-1", village=world.village_a1)
    response = login(world.county_officer).get(reverse("households:list"))
    rows = response.context["page"].object_list
    assert len(rows) == 4 and any(h.head_name is None for h in rows) and any(h.relocated for h in rows)
    written = Template(ROWS_TEMPLATE).render(Context({"page": response.context["page"]}))
    assert written.strip() and written in response.content.decode()
    assert "&lt;b&gt;&amp;张&lt;/b&gt;" in written and "（未登记户主）" in written
    assert ' 元 <small class="muted">(2025)</small>' in written and "搬迁" in written and "大病/慢性病" in written


def test_list_filters_by_town_village_type_and_special_group(login, world):
    world.household_a2.household_type = Household.Type.FORMERLY_POOR
    world.household_a2.save()
    member = world.household_b1.head
    member.disability_category = Member.DisabilityCategory.PHYSICAL
    member.disability_level = 1
    member.save()
    client = login(world.county_officer)

    def numbers(**params):
        response = client.get(reverse("households:list"), params)
        return {h.number for h in response.context["page"].object_list}

    assert numbers(town=world.town_a.pk) == {world.household_a1.number, world.household_a2.number}
    assert numbers(village=world.village_b1.pk) == {world.household_b1.number}
    assert numbers(household_type="formerly_poor") == {world.household_a2.number}
    assert numbers(group="severe_disability") == {world.household_b1.number}


def test_list_filter_cannot_widen_scope(login, world):
    response = login(world.village_cadre).get(reverse("households:list"), {"village": world.village_b1.pk})
    assert world.household_b1.number not in response.content.decode()


def test_list_paginates_twenty_and_keeps_filters_in_page_links(login, world):
    for _ in range(25):
        f.make_household(world.village_a1, members=1)
    client = login(world.village_cadre)
    response = client.get(reverse("households:list"), {"village": world.village_a1.pk})
    assert len(response.context["page"].object_list) == 20
    assert response.context["page"].paginator.count == 26
    html = response.content.decode()
    assert f"?village={world.village_a1.pk}&amp;page=2" in html
    second = client.get(reverse("households:list"), {"village": world.village_a1.pk, "page": 2})
    assert len(second.context["page"].object_list) == 6


@pytest.mark.parametrize("count", [5, 40])
def test_list_keeps_a_constant_number_of_queries(login, world, django_assert_max_num_queries, count):
    for index in range(count):
        household = f.make_household(world.village_a1, members=3)
        f.make_income(household, year=2025, wage_income=1000 + index)
    client = login(world.village_cadre)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("households:list"), {"page": 2 if count > 20 else 1})
    assert response.status_code == 200


def test_register_button_only_for_users_who_may_write(login, world):
    assert "登记新农户" in login(world.village_cadre).get(reverse("households:list")).content.decode()
    assert "登记新农户" not in login(world.town_official).get(reverse("households:list")).content.decode()


# --- detail -------------------------------------------------------------------------------


def test_detail_shows_full_ids_phones_and_logs_the_view(login, world):
    household = world.household_a1
    f.make_income(household, year=2025, wage_income=6000, business_income=3000, business_costs=600)
    response = login(world.village_cadre).get(reverse("households:detail", args=[household.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for member in household.members.all():
        assert member.id_number in html
    assert household.phone in html
    assert "8,400.00 元" in html and "2,800.00 元" in html  # total and per-capita for 3 people
    assert "饮水安全" in html and "义务教育" in html
    assert PersonalDataView.objects.filter(user=world.village_cadre, household=household, channel="page").count() == 1


def test_detail_of_household_outside_scope_is_404_and_not_logged(login, world):
    client = login(world.village_cadre)
    for household in (world.household_a2, world.household_b1, world.household_other):
        assert client.get(reverse("households:detail", args=[household.pk])).status_code == 404
    assert (
        login(world.department_staff).get(reverse("households:detail", args=[world.household_a1.pk])).status_code == 404
    )
    assert not PersonalDataView.objects.exists()


def test_town_official_reads_detail_without_edit_links(login, world):
    html = login(world.town_official).get(reverse("households:detail", args=[world.household_a1.pk])).content.decode()
    assert world.household_a1.number in html
    assert reverse("households:edit", args=[world.household_a1.pk]) not in html
    assert reverse("households:member-create", args=[world.household_a1.pk]) not in html


def test_detail_shows_data_quality_findings(login, world):
    child = world.household_a1.members.exclude(relation=Member.Relation.HEAD).first()
    Member.objects.filter(pk=child.pk).update(schooling=Member.Schooling.SENIOR, work_months=6)
    html = login(world.village_cadre).get(reverse("households:detail", args=[world.household_a1.pk])).content.decode()
    assert "数据质量提示" in html and "是在校生" in html


# --- create household with its head ----------------------------------------------------------


def test_village_cadre_registers_household_with_head_in_one_step(login, world):
    client = login(world.village_cadre)
    page = client.get(reverse("households:create"))
    assert page.context["form"]["village"].value() == world.village_a1.pk  # preselected
    head_id = f.valid_id(datetime.date(1975, 1, 2), "M")
    lower = head_id[:17] + head_id[17].lower()
    data = {**household_post(world.village_a1), **member_post("head", name="王五", id_number=lower)}
    response = client.post(reverse("households:create"), data)
    household = Household.objects.get(number="HH-NEW-001")
    assert response.status_code == 302
    assert response.url == reverse("households:detail", args=[household.pk])
    head = household.members.get()
    assert head.relation == Member.Relation.HEAD
    assert head.id_number == head_id.upper()
    assert head.birth_date == datetime.date(1975, 1, 2) and head.sex == "M"
    assert "已登记农户 HH-NEW-001" in client.get(response.url).content.decode()


@pytest.mark.parametrize(
    "bad_id, message",
    [
        ("wrong_check", "身份证号校验位错误"),
        ("impossible", "身份证号中的出生日期 19800230 不存在"),
        ("duplicate", "该身份证号不能在此登记"),  # held outside the cadre's village: not said where (issue 14)
    ],
)
def test_create_household_with_invalid_head_id_shows_chinese_error_and_saves_nothing(login, world, bad_id, message):
    value = {
        "wrong_check": wrong_check_digit(f.valid_id()),
        "impossible": impossible_date_id(),
        "duplicate": world.household_b1.head.id_number,  # a member of another household
    }[bad_id]
    client = login(world.village_cadre)
    data = {**household_post(world.village_a1), **member_post("head", id_number=value)}
    response = client.post(reverse("households:create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Household.objects.filter(number="HH-NEW-001").exists()


def test_create_household_with_duplicate_number_shows_error(login, world):
    client = login(world.village_cadre)
    data = {**household_post(world.village_a1, number=world.household_b1.number), **member_post("head")}
    response = client.post(reverse("households:create"), data)
    assert response.status_code == 200
    assert "户编号" in response.context["form"].errors.as_text() or response.context["form"].errors["number"]
    assert Household.objects.filter(number=world.household_b1.number).count() == 1


def test_village_cadre_cannot_register_in_another_village(login, world):
    client = login(world.village_cadre)
    data = {**household_post(world.village_b1), **member_post("head")}
    response = client.post(reverse("households:create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["village"]
    assert not Household.objects.filter(number="HH-NEW-001").exists()


def test_town_official_may_not_register_households(login, world):
    client = login(world.town_official)
    response = client.get(reverse("households:create"))
    assert response.status_code == 403
    assert "您的角色不能登记农户" in response.content.decode()
    data = {**household_post(world.village_a1), **member_post("head")}
    assert client.post(reverse("households:create"), data).status_code == 403
    assert not Household.objects.filter(number="HH-NEW-001").exists()


# --- edit household -----------------------------------------------------------------------


def test_edit_household_saves_security_status(login, world):
    household = world.household_a1
    client = login(world.village_cadre)
    data = household_post(world.village_a1, number=household.number, housing_secure="", housing_note="危房 C 级")
    del data["housing_secure"]
    response = client.post(reverse("households:edit", args=[household.pk]), data)
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.housing_secure is False and household.housing_note == "危房 C 级"
    assert "有问题" in client.get(response.url).content.decode()


def test_edit_household_with_a_taken_number_shows_the_error_and_changes_nothing(login, world):
    household = world.household_a1
    data = household_post(world.village_a1, number=world.household_a2.number, address="改过的地址")
    response = login(world.village_cadre).post(reverse("households:edit", args=[household.pk]), data)
    assert response.status_code == 200
    assert "户编号" in response.content.decode() and response.context["form"].errors["number"]
    household.refresh_from_db()
    assert household.number != world.household_a2.number and household.address != "改过的地址"


def test_edit_household_out_of_scope_is_404_and_read_only_role_gets_403(login, world):
    assert login(world.village_cadre).get(reverse("households:edit", args=[world.household_b1.pk])).status_code == 404
    client = login(world.town_official)
    response = client.get(reverse("households:edit", args=[world.household_a1.pk]))
    assert response.status_code == 403
    assert "只能查看该农户" in response.content.decode()
    data = household_post(world.village_a1, number=world.household_a1.number, address="改过的地址")
    assert client.post(reverse("households:edit", args=[world.household_a1.pk]), data).status_code == 403
    world.household_a1.refresh_from_db()
    assert world.household_a1.address != "改过的地址"


# --- members ------------------------------------------------------------------------------


def test_add_member_and_continue_adding(login, world):
    client = login(world.village_cadre)
    url = reverse("households:member-create", args=[world.household_a1.pk])
    response = client.post(url, {**member_post(name="李四"), "_addanother": "1"})
    assert response.url == url
    assert world.household_a1.members.filter(name="李四").exists()


@pytest.mark.parametrize(
    "value, message",
    [
        (lambda w: wrong_check_digit(f.valid_id()), "身份证号校验位错误"),
        (lambda w: impossible_date_id(), "出生日期 19800230 不存在"),
        (lambda w: w.household_b1.head.id_number, "该身份证号不能在此登记"),  # another village (issue 14)
        (lambda w: "44098119800517", "身份证号应为 18 位"),
    ],
)
def test_add_member_with_invalid_id_shows_chinese_error(login, world, value, message):
    client = login(world.village_cadre)
    before = world.household_a1.members.count()
    response = client.post(
        reverse("households:member-create", args=[world.household_a1.pk]), member_post(id_number=value(world))
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert world.household_a1.members.count() == before


def test_second_head_is_refused_with_a_clear_message(login, world):
    response = login(world.village_cadre).post(
        reverse("households:member-create", args=[world.household_a1.pk]), member_post(relation=Member.Relation.HEAD)
    )
    assert response.status_code == 200
    assert "该户已有在户的户主" in response.content.decode()


def test_member_pages_respect_scope_and_role(login, world):
    member_b1 = world.household_b1.head
    client = login(world.village_cadre)
    assert client.get(reverse("households:member-create", args=[world.household_b1.pk])).status_code == 404
    assert client.get(reverse("households:member-edit", args=[world.household_b1.pk, member_b1.pk])).status_code == 404
    # A member of another household through an in-scope household's URL.
    assert client.get(reverse("households:member-edit", args=[world.household_a1.pk, member_b1.pk])).status_code == 404
    town = login(world.town_official)
    head = world.household_a1.head
    assert town.get(reverse("households:member-create", args=[world.household_a1.pk])).status_code == 403
    response = town.post(
        reverse("households:member-edit", args=[world.household_a1.pk, head.pk]),
        member_post(name="改名", id_number=head.id_number, relation="head"),
    )
    assert response.status_code == 403
    head.refresh_from_db()
    assert head.name != "改名"


def test_member_who_died_leaves_the_household_size(login, world):
    household = world.household_a1
    child = household.members.exclude(relation=Member.Relation.HEAD).first()
    client = login(world.village_cadre)
    data = member_post(name=child.name, id_number=child.id_number, status=Member.Status.DECEASED)
    response = client.post(reverse("households:member-edit", args=[household.pk, child.pk]), data)
    assert response.status_code == 302
    assert Member.objects.filter(pk=child.pk, status=Member.Status.DECEASED).exists()  # kept, not deleted
    listing = client.get(reverse("households:list"))
    assert listing.context["page"].object_list[0].size == 2


def test_edit_member_keeps_own_id_and_warns_about_child_work(login, world):
    household = world.household_a1
    child = household.members.exclude(relation=Member.Relation.HEAD).first()
    child_id = f.valid_id(datetime.date(2016, 4, 1), "F")
    Member.objects.filter(pk=child.pk).update(id_number=child_id, birth_date=datetime.date(2016, 4, 1))
    client = login(world.village_cadre)
    data = member_post(name=child.name, id_number=child_id, work_place="in_county", work_months="5")
    response = client.post(reverse("households:member-edit", args=[household.pk, child.pk]), data, follow=True)
    html = response.content.decode()
    assert "已保存成员" in html
    assert "未满 16 周岁，却登记了务工" in html
    assert 'class="msg msg-warning"' in html


# --- income -------------------------------------------------------------------------------


def test_new_income_starts_from_last_years_record(login, world):
    f.make_income(world.household_a1, year=2025, wage_income=12345, transfer_income=800)
    response = login(world.village_cadre).get(reverse("households:income-create", args=[world.household_a1.pk]))
    form = response.context["form"]
    assert form["year"].value() == 2026
    assert Decimal(form["wage_income"].value()) == Decimal("12345")
    assert Decimal(form["transfer_income"].value()) == Decimal("800")


def test_income_without_history_defaults_to_current_year(login, world):
    response = login(world.village_cadre).get(reverse("households:income-create", args=[world.household_a1.pk]))
    assert response.context["form"]["year"].value() == datetime.date.today().year


def test_income_per_capita_is_computed_on_the_server(login, world):
    client = login(world.village_cadre)
    response = client.post(
        reverse("households:income-create", args=[world.household_a1.pk]),
        income_post(declared_total="27000"),
        follow=True,
    )
    record = IncomeRecord.objects.get(household=world.household_a1, year=2026)
    assert record.total_net_income == Decimal("27000.00")
    assert record.household_size == 3
    assert record.per_capita_net_income == Decimal("9000.00")
    assert "人均纯收入 9000.00 元" in response.content.decode()


def test_income_total_not_equal_to_parts_is_refused(login, world):
    response = login(world.village_cadre).post(
        reverse("households:income-create", args=[world.household_a1.pk]), income_post(declared_total="30000")
    )
    assert response.status_code == 200
    assert "家庭纯收入 30000 元与各项之和 27000 元" in response.content.decode()
    assert response.context["form"].errors["declared_total"]
    assert not IncomeRecord.objects.exists()


def test_income_policy_part_larger_than_transfer_is_refused(login, world):
    response = login(world.village_cadre).post(
        reverse("households:income-create", args=[world.household_a1.pk]),
        income_post(transfer_income=100, policy_transfer_income=500),
    )
    assert "不能大于转移性收入" in response.content.decode()
    assert not IncomeRecord.objects.exists()


def test_second_income_record_for_the_same_year_is_refused(login, world):
    f.make_income(world.household_a1, year=2026, wage_income=1)
    response = login(world.village_cadre).post(
        reverse("households:income-create", args=[world.household_a1.pk]), income_post(year=2026)
    )
    assert "2026年的收入记录已存在" in response.content.decode()
    assert IncomeRecord.objects.count() == 1


def test_edit_income_recomputes_totals(login, world):
    record = f.make_income(world.household_a1, year=2025, wage_income=3000)
    client = login(world.village_cadre)
    response = client.post(
        reverse("households:income-edit", args=[world.household_a1.pk, record.pk]),
        income_post(
            year=2025,
            wage_income=6000,
            business_income=0,
            business_costs=0,
            transfer_income=0,
            policy_transfer_income=0,
        ),
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.total_net_income == Decimal("6000.00") and record.per_capita_net_income == Decimal("2000.00")


def test_income_pages_respect_scope_and_role(login, world):
    record_b1 = f.make_income(world.household_b1, year=2025, wage_income=1)
    client = login(world.village_cadre)
    assert client.get(reverse("households:income-create", args=[world.household_b1.pk])).status_code == 404
    assert client.get(reverse("households:income-edit", args=[world.household_b1.pk, record_b1.pk])).status_code == 404
    assert client.get(reverse("households:income-edit", args=[world.household_a1.pk, record_b1.pk])).status_code == 404
    town = login(world.town_official)
    response = town.post(reverse("households:income-create", args=[world.household_a1.pk]), income_post())
    assert response.status_code == 403
    assert not IncomeRecord.objects.filter(household=world.household_a1).exists()


# --- admin --------------------------------------------------------------------------------


def test_admin_index_names_every_section_in_chinese(client, world):
    root = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    html = client.get(reverse("admin:index")).content.decode()
    for section in ("农户登记", "监测对象", "帮扶措施"):
        assert section in html
    for english in (">Households<", ">Monitoring<", ">Assistance<"):
        assert english not in html


def test_edit_forms_showing_full_id_numbers_and_phones_are_logged(client, world):
    from households.models import PersonalDataView

    client.force_login(world.village_cadre)
    household = world.household_a1
    member = household.members.first()
    assert client.get(f"/households/{household.pk}/edit/").status_code == 200
    page = client.get(f"/households/{household.pk}/members/{member.pk}/edit/")
    assert member.id_number in page.content.decode()
    views = PersonalDataView.objects.filter(user=world.village_cadre, household=household, channel="page")
    assert views.count() == 2
