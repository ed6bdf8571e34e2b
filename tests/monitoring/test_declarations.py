"""Self-declarations (issue 12 points 1-5): the public page and API with their protections, the
status lookup, a cadre's hotline/window entry, the village's queue, linking, registering the
household from the declaration, starting a case with the facts carried, closing with a reason."""

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from households.models import Household, Member
from monitoring.declarations import selectors, services
from monitoring.models import CaseEvent, Channel, Declaration, DeclarationPhoto, MonitoringCase, State
from tests import factories as f
from tests.households.test_pages import household_post

DECLARE = "/declare/"
API = "/api/declarations/"


def form_data(village, **extra):
    data = {
        "village": village.pk,
        "name": "李秀英",
        "id_number": f.valid_id(datetime.date(1968, 4, 2), "F"),
        "phone": "139 1234 5678",
        "situation": "丈夫今年查出尿毒症，每周透析三次，家里没钱了。",
        "risk_types": ["illness", "labour"],
        "website": "",
    }
    data.update(extra)
    return data


def declare(village, client=None, **extra):
    client = client or APIClient()
    return client.post(API, form_data(village, **extra), format="json")


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def submitted(village, **extra):
    response = declare(village, **extra)
    assert response.status_code == 201, response.content
    return Declaration.objects.get(reference=response.json()["reference"])


# --- the public page -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_needs_no_login_and_the_poster_link_preselects_the_village(client, world):
    page = client.get(DECLARE, {"village": world.village_a2.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert f'value="{world.village_a2.pk}" data-town="{world.town_a.pk}" selected' in html
    assert "家里有人生大病、慢性病，看病花钱多" in html  # plain words, mapped to 因病
    assert 'value="illness"' in html
    assert "<script>" not in html and "onclick" not in html
    assert 'src="/static/js/declare.js"' in html


@pytest.mark.django_db
def test_a_valid_declaration_is_kept_and_confirmed_with_reference_and_dates(client, world):
    response = client.post(DECLARE, form_data(world.village_a1))
    assert response.status_code == 302 and response.url == reverse("declarations:declare-done")
    declaration = Declaration.objects.get()
    assert declaration.state == Declaration.State.OPEN
    assert declaration.source == Declaration.Source.ONLINE
    assert declaration.phone == "13912345678"
    assert declaration.risk_types == ["illness", "labour"]
    assert declaration.declared_on == datetime.date.today()
    done = client.get(response.url).content.decode()
    step = selectors.next_step(declaration)
    assert declaration.reference in done
    assert step.determined_by == declaration.declared_on + datetime.timedelta(days=15)  # the county default
    assert f"{step.determined_by.year}年{step.determined_by.month}月{step.determined_by.day}日" in done
    assert "东山村的村干部会打电话或上门了解情况" in done
    assert declaration.events.get().label == "收到申报（手机/微信申报页面）"


@pytest.mark.django_db
def test_the_confirmation_page_without_a_declaration_goes_back_to_the_form(client, world):
    assert client.get(reverse("declarations:declare-done")).url == DECLARE


@pytest.mark.django_db
def test_a_wrong_id_number_or_phone_is_refused_in_chinese_and_nothing_is_kept(client, world):
    good = f.valid_id()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = client.post(DECLARE, form_data(world.village_a1, id_number=bad, phone="12345"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "身份证号校验位错误" in html and "电话号码格式不正确" in html
    assert "丈夫今年查出尿毒症" in html  # nothing the person typed is lost
    assert not Declaration.objects.exists()
    api_answer = declare(world.village_a1, id_number="12345")
    assert api_answer.status_code == 400 and "身份证号应为 18 位" in api_answer.json()["id_number"][0]


@pytest.mark.django_db
def test_the_honeypot_refuses_with_a_message(client, world):
    response = client.post(DECLARE, form_data(world.village_a1, website="http://spam.example"))
    assert response.status_code == 400
    assert "隐藏的“网址”一栏应当留空" in response.content.decode()
    api_answer = declare(world.village_a1, website="x")
    assert api_answer.status_code == 400 and "non_field_errors" in api_answer.json()
    assert not Declaration.objects.exists()


@pytest.mark.django_db
def test_photos_are_checked_by_content_and_limited_in_number_and_size(client, world, settings):
    fake = SimpleUploadedFile("病历.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")
    response = client.post(DECLARE, {**form_data(world.village_a1), "photos": [fake]})
    assert response.status_code == 400 and "不是可以识别的图片" in response.content.decode()
    five = [f.jpeg_upload(f"p{i}.jpg") for i in range(5)]
    response = client.post(DECLARE, {**form_data(world.village_a1), "photos": five})
    assert response.status_code == 400 and "最多上传 4 张照片" in response.content.decode()
    settings.UPLOAD_MAX_IMAGE_MB = 0
    response = client.post(DECLARE, {**form_data(world.village_a1), "photos": [f.jpeg_upload()]})
    assert response.status_code == 400 and "单个文件不能超过 0 MB" in response.content.decode()
    assert not Declaration.objects.exists()
    settings.UPLOAD_MAX_IMAGE_MB = 10
    response = client.post(DECLARE, {**form_data(world.village_a1), "photos": [f.jpeg_upload("房子.jpeg")]})
    assert response.status_code == 302
    photo = DeclarationPhoto.objects.get()
    assert photo.image.name.endswith(".jpg")  # re-encoded by us


@pytest.mark.django_db
def test_rate_limit_per_address_refuses_with_429_and_keeps_what_was_accepted(client, world, settings):
    settings.DECLARATION_LIMIT_PER_IP = 2
    for _ in range(2):
        assert declare(world.village_a1, id_number=f.valid_id()).status_code == 201
    refused = declare(world.village_a1, id_number=f.valid_id())
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "提交太频繁" in refused.json()["detail"] and "12317" in refused.json()["detail"]
    page = client.post(DECLARE, form_data(world.village_a1, id_number=f.valid_id()))
    assert page.status_code == 429 and "提交太频繁" in page.content.decode()
    assert Declaration.objects.count() == 2
    # Another address is not held up.
    other = APIClient(REMOTE_ADDR="10.1.2.3")
    assert declare(world.village_a1, client=other, id_number=f.valid_id()).status_code == 201


@pytest.mark.django_db
def test_rate_limit_per_id_number_holds_across_addresses(world, settings):
    settings.DECLARATION_LIMIT_PER_ID_NUMBER = 2
    number = f.valid_id()
    for address in ("10.0.0.1", "10.0.0.2"):
        assert declare(world.village_a1, client=APIClient(REMOTE_ADDR=address), id_number=number).status_code == 201
    refused = declare(world.village_a1, client=APIClient(REMOTE_ADDR="10.0.0.3"), id_number=number)
    assert refused.status_code == 429 and "该身份证号今天已提交 2 份申报" in refused.json()["detail"]


@pytest.mark.django_db
def test_repeats_from_one_person_are_grouped_and_counted_once(world):
    number = f.valid_id()
    first = submitted(world.village_a1, id_number=number)
    second = submitted(world.village_a1, id_number=number, situation="又补充：孩子也病了。")
    other = submitted(world.village_a1)
    assert second.duplicate_of == first
    rows = list(selectors.queue(world.village_cadre))
    assert [r.pk for r in rows] == [first.pk, other.pk]
    assert rows[0].duplicate_count == 1
    assert selectors.open_counts_by_village(world.town_official) == [(world.village_a1, 2)]
    listed = api(world.village_cadre).get(API).json()
    assert listed["count"] == 2
    assert listed["results"][0]["duplicate_count"] == 1


@pytest.mark.django_db
def test_public_areas_list_towns_and_their_villages(world):
    answer = APIClient().get(API + "areas/")
    assert answer.status_code == 200
    towns = {t["name"]: t for t in answer.json()}
    assert [v["name"] for v in towns["东山镇"]["villages"]] == ["东山村", "南岭村"]
    assert towns["东山镇"]["county"] == "示例县"


# --- the status lookup ---------------------------------------------------------------------


@pytest.mark.django_db
def test_status_shows_own_state_and_the_reason_once_closed_and_nothing_else(client, world):
    declaration = submitted(world.village_a1)
    last6 = declaration.id_number[-6:]
    page = client.get(reverse("declarations:declare-status"), {"reference": declaration.reference, "id_last6": last6})
    html = page.content.decode()
    assert "待村里核实" in html
    assert declaration.name not in html and declaration.phone not in html and declaration.situation not in html
    services.declaration_close(
        user=world.village_cadre, declaration_id=declaration.pk, reason="经核实，家庭收入高于监测线，不符合纳入条件。"
    )
    answer = APIClient().get(API + "status/", {"reference": declaration.reference.lower(), "id_last6": last6})
    assert answer.status_code == 200
    assert answer.json() == {
        "reference": declaration.reference,
        "state": "closed",
        "state_label": "已办结",
        "closed_reason": "经核实，家庭收入高于监测线，不符合纳入条件。",
    }
    html = client.get(
        reverse("declarations:declare-status"), {"reference": declaration.reference, "id_last6": last6}
    ).content.decode()
    assert "经核实，家庭收入高于监测线" in html


@pytest.mark.django_db
def test_status_gives_one_answer_for_every_mismatch(client, world):
    declaration = submitted(world.village_a1)
    wrong_id = "000000" if declaration.id_number[-6:] != "000000" else "111111"
    answers = [
        APIClient().get(API + "status/", {"reference": declaration.reference, "id_last6": wrong_id}),
        APIClient().get(API + "status/", {"reference": "SBZZZZZZZZ", "id_last6": declaration.id_number[-6:]}),
    ]
    assert {a.status_code for a in answers} == {404}
    assert answers[0].json() == answers[1].json()
    pages = [
        client.get(reverse("declarations:declare-status"), {"reference": declaration.reference, "id_last6": wrong_id}),
        client.get(reverse("declarations:declare-status"), {"reference": "SBZZZZZZZZ", "id_last6": "123456"}),
    ]
    assert all("未找到该申报" in p.content.decode() for p in pages)
    assert APIClient().get(API + "status/").status_code == 400


@pytest.mark.django_db
def test_status_lookups_are_rate_limited(world, settings):
    settings.DECLARATION_STATUS_LIMIT_PER_IP = 3
    for _ in range(3):
        assert APIClient().get(API + "status/", {"reference": "SB22222222", "id_last6": "123456"}).status_code == 404
    refused = APIClient().get(API + "status/", {"reference": "SB22222222", "id_last6": "123456"})
    assert refused.status_code == 429 and refused["Retry-After"]


# --- a cadre's entry (hotline, window, WeChat group) ---------------------------------------------


def entry_data(village, **extra):
    return {**form_data(village), "source": "hotline", "declared_on": str(datetime.date.today()), **extra}


@pytest.mark.django_db
def test_a_cadre_records_a_hotline_declaration_with_channel_and_date(world):
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    answer = api(world.town_official).post(
        API + "entries/", entry_data(world.village_a2, declared_on=str(yesterday)), format="json"
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["source"] == "hotline" and body["source_label"] == "12317 热线"
    assert body["declared_on"] == str(yesterday)
    declaration = Declaration.objects.get(pk=body["id"])
    assert declaration.recorded_by == world.town_official


@pytest.mark.django_db
def test_a_cadre_entry_refuses_a_future_date_and_another_village(world):
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    answer = api(world.village_cadre).post(
        API + "entries/", entry_data(world.village_a1, declared_on=str(tomorrow)), format="json"
    )
    assert answer.status_code == 400 and answer.json()["declared_on"] == ["申报日期不能晚于今天。"]
    answer = api(world.village_cadre).post(API + "entries/", entry_data(world.village_a2), format="json")
    assert answer.status_code == 400 and "village" in answer.json()  # not among the cadre's villages
    assert not Declaration.objects.exists()
    with pytest.raises(Exception) as refused:
        services.declaration_record(user=world.village_cadre, **_service_entry(world.village_b1))
    assert refused.typename == "Http404"


def _service_entry(village):
    data = entry_data(village)
    data.pop("website")
    data["declared_on"] = datetime.date.today()
    return data


@pytest.mark.django_db
def test_a_retried_offline_sync_stores_the_entry_once(world):
    key = str(uuid.uuid4())
    first = api(world.village_cadre).post(
        API + "entries/", entry_data(world.village_a1, client_uuid=key), format="json"
    )
    again = api(world.village_cadre).post(
        API + "entries/", entry_data(world.village_a1, client_uuid=key), format="json"
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Declaration.objects.count() == 1
    # Someone else's key is not theirs to read.
    other = api(world.village_cadre_b).post(
        API + "entries/", entry_data(world.village_b1, client_uuid=key), format="json"
    )
    assert other.status_code == 400 and "client_uuid" in other.json()


@pytest.mark.django_db
def test_the_entry_page_records_a_window_declaration(client, world):
    client.force_login(world.village_cadre)
    page = client.get(reverse("declarations:entry")).content.decode()
    assert "南岭村" not in page  # only the cadre's own villages
    data = entry_data(world.village_a1, source="window")
    data.pop("website")
    response = client.post(reverse("declarations:entry"), data)
    declaration = Declaration.objects.get()
    assert response.status_code == 302 and response.url == reverse("declarations:detail", args=[declaration.pk])
    assert declaration.source == "window" and declaration.recorded_by == world.village_cadre


# --- the queue, by scope ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_queue_is_scoped_to_the_village(client, world):
    mine = submitted(world.village_a1)
    theirs = submitted(world.village_b1)
    assert [d.pk for d in selectors.queue(world.village_cadre)] == [mine.pk]
    assert [d.pk for d in selectors.queue(world.county_officer)] == [mine.pk, theirs.pk]
    assert not selectors.queue(world.department_staff).exists()
    assert api(world.village_cadre_b).get(API + f"{mine.pk}/").status_code == 404
    assert api(world.nobody).get(API + f"{mine.pk}/").status_code == 404
    assert APIClient().get(API).status_code == 401
    client.force_login(world.village_cadre)
    assert client.get(reverse("declarations:detail", args=[theirs.pk])).status_code == 404
    html = client.get(reverse("monitoring:inbox")).content.decode()
    assert "待核实的农户自主申报（1 人）" in html and mine.name in html
    queue_page = client.get(reverse("declarations:queue")).content.decode()
    assert reverse("declarations:poster", args=[world.village_a1.pk]) in queue_page
    assert reverse("declarations:poster", args=[world.village_b1.pk]) not in queue_page


@pytest.mark.django_db
def test_the_town_sees_the_count_per_village(client, world):
    submitted(world.village_a1)
    submitted(world.village_a2)
    client.force_login(world.town_official)
    html = client.get(reverse("declarations:queue")).content.decode()
    assert "东山村：<strong>1</strong> 人" in html and "南岭村：<strong>1</strong> 人" in html


# --- linking, registering, starting a case, closing ------------------------------------------


def household_of(village, id_number):
    household = f.make_household(village, members=2)
    household.members.filter(relation=Member.Relation.HEAD).update(id_number=id_number)
    return household


@pytest.mark.django_db
def test_linking_is_suggested_by_id_number_within_scope_only(world):
    number = f.valid_id()
    household = household_of(world.village_a1, number)
    declaration = submitted(world.village_a1, id_number=number)
    detail = api(world.village_cadre).get(API + f"{declaration.pk}/").json()
    assert [s["number"] for s in detail["suggested_households"]] == [household.number]
    assert detail["available_actions"] == ["link", "close"]
    # A declaration naming someone registered in another county tells nothing about them.
    elsewhere = f.valid_id()
    household_of(world.other_village, elsewhere)
    stranger = submitted(world.village_a1, id_number=elsewhere)
    assert api(world.village_cadre).get(API + f"{stranger.pk}/").json()["suggested_households"] == []

    linked = api(world.village_cadre).post(API + f"{declaration.pk}/link/", {"household": household.pk}, format="json")
    assert linked.status_code == 200 and linked.json()["household"] == household.pk
    assert linked.json()["available_actions"] == ["link", "start_case", "close"]
    out_of_scope = api(world.village_cadre).post(
        API + f"{declaration.pk}/link/", {"household": world.household_b1.pk}, format="json"
    )
    assert out_of_scope.status_code == 404
    county = api(world.county_officer).post(
        API + f"{declaration.pk}/link/", {"household": world.household_a1.pk}, format="json"
    )
    assert county.status_code == 403
    wrong_village = f.user_with_role("cadre_two", "village_cadre", area=world.town_a)
    answer = api(wrong_village).post(
        API + f"{declaration.pk}/link/", {"household": world.household_a2.pk}, format="json"
    )
    assert answer.status_code == 400 and "不在申报所选的" in answer.json()["household"][0]


@pytest.mark.django_db
def test_starting_a_case_carries_the_facts_and_photos_and_a_second_press_is_409(world):
    number = f.valid_id()
    household = household_of(world.village_a1, number)
    client = APIClient()
    response = client.post(
        API, {**form_data(world.village_a1, id_number=number), "photos": [f.jpeg_upload()]}, format="multipart"
    )
    declaration = Declaration.objects.get(reference=response.json()["reference"])
    repeat = submitted(world.village_a1, id_number=number, situation="补充：医院催缴费用。", risk_types=["loan"])
    cadre = api(world.village_cadre)
    unlinked = cadre.post(API + f"{declaration.pk}/start-case/")
    assert unlinked.status_code == 409 and "请先关联农户" in unlinked.json()["detail"]
    cadre.post(API + f"{declaration.pk}/link/", {"household": household.pk}, format="json")

    started = cadre.post(API + f"{repeat.pk}/start-case/")  # acting on the repeat acts on the group
    assert started.status_code == 200, started.content
    case = MonitoringCase.objects.get(household=household)
    assert started.json()["case"] == case.pk
    assert case.channel == Channel.SELF_DECLARED
    assert case.discovered_on == declaration.declared_on
    assert case.state == State.REPORTED
    assert "丈夫今年查出尿毒症" in case.reason and "医院催缴费用" in case.reason
    assert case.primary_risk == "illness" and case.secondary_risks == ["labour", "loan"]
    photo_event = CaseEvent.objects.get(case=case, action="declaration_photo")
    assert photo_event.attachment.name == DeclarationPhoto.objects.get().image.name
    created = CaseEvent.objects.get(case=case, action="declaration")
    assert created.label == "农户自主申报，申报监测对象"
    assert created.payload["declarations"] == [declaration.reference, repeat.reference]
    assert set(Declaration.objects.values_list("state", flat=True)) == {"case_started"}

    again = cadre.post(API + f"{declaration.pk}/start-case/")
    assert again.status_code == 409
    assert MonitoringCase.objects.filter(household=household).count() == 1
    status = APIClient().get(API + "status/", {"reference": declaration.reference, "id_last6": number[-6:]}).json()
    assert status["state"] == "case_started" and status["closed_reason"] == ""


@pytest.mark.django_db
def test_a_household_with_an_open_case_gets_the_declaration_on_that_case(world):
    from monitoring import services as case_services

    open_case = case_services.case_create(
        user=world.village_cadre,
        household=world.household_a1,
        channel="cadre_visit",
        discovered_on=datetime.date.today(),
        reason="走访发现",
    )
    head = world.household_a1.members.get(relation=Member.Relation.HEAD)
    declaration = submitted(world.village_a1, id_number=head.id_number)
    services.declaration_link(user=world.village_cadre, declaration_id=declaration.pk, household=world.household_a1)
    case = services.declaration_start_case(user=world.village_cadre, declaration_id=declaration.pk)
    assert case == open_case
    assert MonitoringCase.objects.filter(household=world.household_a1).count() == 1
    assert open_case.events.filter(action="declaration").exists()


@pytest.mark.django_db
def test_closing_needs_a_reason_and_happens_once(world):
    declaration = submitted(world.village_a1)
    cadre = api(world.village_cadre)
    assert cadre.post(API + f"{declaration.pk}/close/", {"reason": ""}, format="json").status_code == 400
    assert (
        api(world.village_cadre_b).post(API + f"{declaration.pk}/close/", {"reason": "x"}, format="json").status_code
        == 404
    )
    closed = api(world.town_official).post(
        API + f"{declaration.pk}/close/", {"reason": "已外出务工，收入稳定。"}, format="json"
    )
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert closed.json()["available_actions"] == []
    again = cadre.post(API + f"{declaration.pk}/close/", {"reason": "再次"}, format="json")
    assert again.status_code == 409
    declaration.refresh_from_db()
    assert declaration.closed_reason == "已外出务工，收入稳定。"
    assert declaration.closed_on == datetime.date.today()


@pytest.mark.django_db
def test_the_pages_link_start_a_case_and_close(client, world):
    number = f.valid_id()
    household = household_of(world.village_a1, number)
    declaration = submitted(world.village_a1, id_number=number)
    client.force_login(world.village_cadre)
    detail = client.get(reverse("declarations:detail", args=[declaration.pk])).content.decode()
    assert household.number in detail and declaration.id_number in detail
    client.post(reverse("declarations:link", args=[declaration.pk]), {"household": household.pk})
    response = client.post(reverse("declarations:start-case", args=[declaration.pk]))
    case = MonitoringCase.objects.get(household=household)
    assert response.url == reverse("monitoring:case-detail", args=[case.pk])
    again = client.post(reverse("declarations:start-case", args=[declaration.pk]), follow=True)
    assert "不能重复办理" in again.content.decode()
    other = submitted(world.village_a1)
    bad = client.post(reverse("declarations:close", args=[other.pk]), {"reason": ""})
    assert bad.status_code == 400 and "请填写办结原因" in bad.content.decode()
    client.post(reverse("declarations:close", args=[other.pk]), {"reason": "重复登记，已由窗口办理。"})
    other.refresh_from_db()
    assert other.state == "closed"


@pytest.mark.django_db
def test_registering_the_household_starts_from_the_declaration_and_links_it(client, world):
    declaration = submitted(world.village_a1)
    client.force_login(world.village_cadre)
    url = reverse("declarations:register", args=[declaration.pk])
    page = client.get(url)
    form, head = page.context["form"], page.context["head_form"]
    assert form["village"].value() == world.village_a1.pk and form["phone"].value() == declaration.phone
    assert head["name"].value() == declaration.name and head["id_number"].value() == declaration.id_number
    # The cadre types only what the declaration did not say (the household number).
    data = household_post(world.village_a1, number="HH-DECL-01", phone=form["phone"].value())
    for field in head:
        value = field.value()
        if not (value is None or value == "" or value is False):
            data[field.html_name] = "on" if value is True else value
    response = client.post(url, data)
    assert response.status_code == 302, (response.context["form"].errors, response.context["head_form"].errors)
    household = Household.objects.get(number="HH-DECL-01")
    assert response.status_code == 302 and response.url == reverse("declarations:detail", args=[declaration.pk])
    declaration.refresh_from_db()
    assert declaration.household == household
    assert household.members.get().id_number == declaration.id_number


@pytest.mark.django_db
def test_the_poster_has_the_village_link_as_qr_code_in_scope_only(client, world):
    url = reverse("declarations:poster", args=[world.village_a1.pk])
    assert client.get(url).status_code == 302  # a signed-in page
    client.force_login(world.town_official)
    html = client.get(url).content.decode()
    assert "<svg" in html and f"/declare/?village={world.village_a1.pk}" in html
    assert client.get(reverse("declarations:poster", args=[world.village_b1.pk])).status_code == 404


@pytest.mark.django_db
def test_declaration_photos_are_served_in_scope_only(client, world):
    response = APIClient().post(API, {**form_data(world.village_a1), "photos": [f.jpeg_upload()]}, format="multipart")
    declaration = Declaration.objects.get(reference=response.json()["reference"])
    photo = declaration.photos.get()
    url = reverse("declarations:photo", args=[declaration.pk, photo.pk])
    client.force_login(world.village_cadre)
    assert client.get(url).status_code == 200
    client.force_login(world.village_cadre_b)
    assert client.get(url).status_code == 404


# --- the remaining answers -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_status_page_is_rate_limited_too(client, world, settings):
    settings.DECLARATION_STATUS_LIMIT_PER_IP = 1
    url = reverse("declarations:declare-status")
    assert client.get(url, {"reference": "SB22222222", "id_last6": "123456"}).status_code == 200
    refused = client.get(url, {"reference": "SB22222222", "id_last6": "123456"})
    assert refused.status_code == 429 and "查询太频繁" in refused.content.decode() and refused["Retry-After"]


@pytest.mark.django_db
def test_a_reference_clash_draws_another_reference(world, monkeypatch):
    taken = submitted(world.village_a1).reference
    drawn = iter([taken, "SB33333333"])
    monkeypatch.setattr(services, "new_reference", lambda: next(drawn))
    assert submitted(world.village_a1).reference == "SB33333333"


@pytest.mark.django_db
def test_the_services_refuse_what_the_forms_cannot_send(world):
    from django.core.exceptions import PermissionDenied, ValidationError

    facts = {"name": "李秀英", "id_number": f.valid_id(), "phone": "13912345678", "situation": "困难"}
    with pytest.raises(ValidationError):
        services.declaration_submit(client="x", village=world.town_a, **facts)
    # The administrator sees every village but takes no part in the work.
    with pytest.raises(PermissionDenied):
        services.declaration_record(
            user=world.admin, village=world.village_a1, source="hotline", declared_on=datetime.date.today(), **facts
        )
    with pytest.raises(ValidationError):
        services.declaration_record(
            user=world.village_cadre, village=world.village_a1, source="online", declared_on=datetime.date.today(),
            **facts,
        )  # fmt: skip
    declaration = submitted(world.village_a1)
    with pytest.raises(PermissionDenied):
        services.declaration_close(user=world.county_officer, declaration_id=declaration.pk, reason="x")
    with pytest.raises(ValidationError):
        services.declaration_close(user=world.village_cadre, declaration_id=declaration.pk, reason="  ")


@pytest.mark.django_db
def test_a_repeated_service_entry_returns_the_first(world):
    key = uuid.uuid4()
    data = _service_entry(world.village_a1)
    first = services.declaration_record(user=world.village_cadre, client_uuid=key, **data)
    again = services.declaration_record(user=world.village_cadre, client_uuid=key, **data)
    assert again.pk == first.pk and again.repeated


@pytest.mark.django_db
def test_the_queue_api_filters_and_the_detail_is_logged(world):
    from households.models import PersonalDataView

    number = f.valid_id()
    household = household_of(world.village_a1, number)
    mine = submitted(world.village_a1, id_number=number)
    submitted(world.village_a2)
    town = api(world.town_official)
    assert town.get(API, {"village": world.village_a1.pk}).json()["count"] == 1
    assert town.get(API, {"village": "x"}).json()["count"] == 0
    assert town.get(API, {"state": "all"}).json()["count"] == 2
    cadre = api(world.village_cadre)
    assert cadre.post(API + f"{mine.pk}/link/", {}, format="json").status_code == 400
    cadre.post(API + f"{mine.pk}/link/", {"household": household.pk}, format="json")
    again = cadre.post(API + f"{mine.pk}/link/", {"household": household.pk}, format="json")
    assert again.status_code == 200  # the same household again changes nothing
    assert mine.events.filter(action="linked").count() == 1
    cadre.get(API + f"{mine.pk}/")
    assert PersonalDataView.objects.filter(user=world.village_cadre, household=household, channel="api").exists()
    cadre.post(API + f"{mine.pk}/close/", {"reason": "不符合"}, format="json")
    assert cadre.post(API + f"{mine.pk}/link/", {"household": household.pk}, format="json").status_code == 409


@pytest.mark.django_db
def test_the_pages_answer_a_repeat_a_closed_declaration_and_missing_choices(client, world):
    number = f.valid_id()
    first = submitted(world.village_a1, id_number=number)
    repeat = submitted(world.village_a1, id_number=number)
    client.force_login(world.village_cadre)
    assert client.get(reverse("declarations:detail", args=[repeat.pk])).url == reverse(
        "declarations:detail", args=[first.pk]
    )
    assert client.get(reverse("declarations:queue"), {"state": "nonsense"}).status_code == 200
    closed_list = client.get(reverse("declarations:queue"), {"state": "all"}).content.decode()
    assert first.reference in closed_list and repeat.reference not in closed_list  # grouped
    missing = client.post(reverse("declarations:link", args=[first.pk]), {}, follow=True)
    assert "请选择要关联的农户" in missing.content.decode()
    wrong = client.post(reverse("declarations:link", args=[first.pk]), {"household": world.household_a2.pk})
    assert wrong.status_code == 404
    services.declaration_close(user=world.village_cadre, declaration_id=first.pk, reason="已核实")
    late = client.post(reverse("declarations:link", args=[first.pk]), {"household": world.household_a1.pk}, follow=True)
    assert "不能重复办理" in late.content.decode()
    register = client.get(reverse("declarations:register", args=[first.pk]), follow=True)
    assert "该申报已已办结" not in register.content.decode() and "该申报已办结" in register.content.decode()


@pytest.mark.django_db
def test_the_entry_page_shows_a_service_refusal_on_the_form(client, world):
    key = uuid.uuid4()
    services.declaration_record(user=world.village_cadre_b, client_uuid=key, **_service_entry(world.village_b1))
    client.force_login(world.village_cadre)
    data = entry_data(world.village_a1, client_uuid=str(key))
    data.pop("website")
    response = client.post(reverse("declarations:entry"), data)
    assert response.status_code == 200 and "该离线提交标识已被其他记录使用" in response.content.decode()
