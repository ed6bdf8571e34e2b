"""The REST API's documented contract (issue 2 item 8, issue 3 item 8) as one table:
path + method + role -> status code. A renamed route, a changed status code or a widened
scope fails here loudly, row by row.

The second table sends what careless or hostile clients send (broken JSON, wrong types,
objects where text is expected, unknown filter values) and expects a clean 4xx with a
Chinese message, never a 500, and no change of state behind the workflow's back."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from households.models import IncomeRecord, Member
from monitoring import services
from monitoring.models import CountySettings, MonitoringCase
from tests import factories as f

# A JSON body carries no file: this county keeps signed commitments on paper at the village
# (commitment_paper_allowed), so the archive reference stands for the scan (issue 7 point 6).
HOME_CHECK = {
    "home_check_on": "2026-01-02",
    "home_checkers": "张三、李四",
    "commitment_signed_on": "2026-01-02",
    "commitment_archive_ref": "东山村承诺书〔2026〕1号",
}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def client_for(world, role):
    client = APIClient()
    if role != "anon":
        user = {
            "admin": world.admin,
            "county": world.county_officer,
            "town": world.town_official,
            "village": world.village_cadre,
            "village_b": world.village_cadre_b,
            "medical": world.department_staff,
        }[role]
        client.force_authenticate(get_user_model().objects.get(pk=user.pk))
    return client


@pytest.fixture
def objects(world):
    """Ids the table's paths refer to: households, members, incomes and a reported case in
    village a1 (the village cadre's) and b1 (another town's)."""
    CountySettings.objects.create(county=world.county, commitment_paper_allowed=True)
    case_a1 = services.case_create(
        user=world.village_cadre,
        household=world.household_a1,
        channel="cadre_visit",
        discovered_on=datetime.date(2026, 1, 1),
        reason="户主突发大病",
    )
    case_b1 = services.case_create(
        user=world.village_cadre_b,
        household=world.household_b1,
        channel="cadre_visit",
        discovered_on=datetime.date(2026, 1, 1),
        reason="因灾",
    )
    f.make_income(world.household_a1)
    return {
        "h_a1": world.household_a1.pk,
        "h_a2": world.household_a2.pk,
        "h_b1": world.household_b1.pk,
        "m_a1": world.household_a1.members.first().pk,
        "m_b1": world.household_b1.members.first().pk,
        "i_a1": IncomeRecord.objects.get(household=world.household_a1).pk,
        "c_a1": case_a1.pk,
        "c_b1": case_b1.pk,
    }


CONTRACT = [
    # authentication and documentation
    ("anon", "get", "/api/households/", None, 401),
    ("anon", "get", "/api/cases/", None, 401),
    ("anon", "get", "/api/schema/", None, 200),
    # households: list, read, update; scope answers 404; no delete
    ("village", "get", "/api/households/", None, 200),
    ("village", "get", "/api/households/{h_a1}/", None, 200),
    ("village", "get", "/api/households/{h_b1}/", None, 404),
    ("village", "get", "/api/households/{h_a2}/", None, 404),
    ("town", "get", "/api/households/{h_a2}/", None, 200),
    ("town", "get", "/api/households/{h_b1}/", None, 404),
    ("county", "get", "/api/households/{h_b1}/", None, 200),
    ("medical", "get", "/api/households/{h_a1}/", None, 404),
    ("village", "patch", "/api/households/{h_a1}/", {"address": "东山村1组"}, 200),
    ("village", "patch", "/api/households/{h_b1}/", {"address": "东山村1组"}, 404),
    ("town", "patch", "/api/households/{h_a1}/", {"address": "东山村1组"}, 403),
    ("village", "delete", "/api/households/{h_a1}/", None, 405),
    ("village", "post", "/api/households/", {}, 400),
    # members and income records
    ("village", "get", "/api/members/?household={h_a1}", None, 200),
    ("village", "get", "/api/members/{m_a1}/", None, 200),
    ("village", "get", "/api/members/{m_b1}/", None, 404),
    ("village", "patch", "/api/members/{m_a1}/", {"name": "张三丰"}, 200),
    ("village", "delete", "/api/members/{m_a1}/", None, 405),
    ("village", "get", "/api/income-records/?household={h_a1}", None, 200),
    ("village", "get", "/api/income-records/{i_a1}/", None, 200),
    ("village_b", "get", "/api/income-records/{i_a1}/", None, 404),
    ("village", "patch", "/api/income-records/{i_a1}/", {"wage_income": "100"}, 200),
    # cases: list, detail, report
    ("village", "get", "/api/cases/", None, 200),
    ("village", "get", "/api/cases/{c_a1}/", None, 200),
    ("village", "get", "/api/cases/{c_b1}/", None, 404),
    ("county", "get", "/api/cases/{c_b1}/", None, 200),
    ("medical", "get", "/api/cases/{c_a1}/", None, 404),
    ("village", "get", "/api/cases/overdue/", None, 200),
    ("village", "patch", "/api/cases/{c_a1}/", {"state": "monitored"}, 405),
    ("village", "put", "/api/cases/{c_a1}/", {"state": "monitored"}, 405),
    ("village", "delete", "/api/cases/{c_a1}/", None, 405),
    (
        "village",
        "post",
        "/api/cases/",
        {"household": "{h_a1}", "channel": "cadre_visit", "discovered_on": "2026-01-01", "reason": "重复"},
        400,
    ),
    (
        "village",
        "post",
        "/api/cases/",
        {"household": "{h_b1}", "channel": "cadre_visit", "discovered_on": "2026-01-01", "reason": "越界"},
        404,
    ),
    (
        "town",
        "post",
        "/api/cases/",
        {"household": "{h_a2}", "channel": "cadre_visit", "discovered_on": "2026-01-01", "reason": "乡镇不申报"},
        403,
    ),
    ("village", "post", "/api/cases/", {"household": "{h_a1}"}, 400),
    # transitions: 200 / 400 / 403 / 404 / 409
    ("village", "post", "/api/cases/{c_a1}/transitions/start_appraisal/", HOME_CHECK, 200),
    ("village", "post", "/api/cases/{c_a1}/transitions/withdraw/", {}, 400),
    ("village", "post", "/api/cases/{c_a1}/transitions/withdraw/", {"reason": "农户撤回申请"}, 200),
    ("town", "post", "/api/cases/{c_a1}/transitions/start_appraisal/", HOME_CHECK, 403),
    ("admin", "post", "/api/cases/{c_a1}/transitions/start_appraisal/", HOME_CHECK, 403),
    ("village_b", "post", "/api/cases/{c_a1}/transitions/start_appraisal/", HOME_CHECK, 404),
    ("medical", "post", "/api/cases/{c_a1}/transitions/start_appraisal/", HOME_CHECK, 404),
    ("village", "post", "/api/cases/{c_a1}/transitions/no_such_step/", {}, 404),
    ("village", "post", "/api/cases/{c_a1}/transitions/publish_notice/", {}, 409),
    ("county", "post", "/api/cases/{c_a1}/transitions/county_approve/", {}, 409),
    ("village", "post", "/api/cases/{c_a1}/transitions/start_appraisal/", {}, 409),
    ("village", "get", "/api/cases/{c_a1}/transitions/start_appraisal/", None, 405),
    # objections: only during a notice
    ("village", "get", "/api/cases/{c_a1}/objections/", None, 200),
    ("village_b", "get", "/api/cases/{c_a1}/objections/", None, 404),
    ("village", "post", "/api/cases/{c_a1}/objections/", {"raised_by": "王五", "content": "有车"}, 409),
    ("village", "post", "/api/cases/{c_a1}/objections/", {"content": "有车"}, 400),
    ("village", "post", "/api/objections/999999/resolve/", {"upheld": False, "resolution": "x"}, 404),
    # visits
    ("village", "get", "/api/visits/", None, 200),
    ("village", "post", "/api/visits/", {"household": "{h_a1}", "visitors": "张三"}, 201),
    ("village", "post", "/api/visits/", {"household": "{h_b1}", "visitors": "张三"}, 404),
    ("county", "post", "/api/visits/", {"household": "{h_a1}", "visitors": "张三"}, 403),
    ("village", "post", "/api/visits/", {"visitors": "张三"}, 400),
    # inbox
    ("village", "get", "/api/inbox/", None, 200),
    ("county", "get", "/api/inbox/", None, 200),
]


def _fill(value, ids):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    "role,method,path,body,expected", CONTRACT, ids=[f"{r[0]}-{r[1]}-{r[2]}-{r[4]}" for r in CONTRACT]
)
def test_contract(world, objects, role, method, path, body, expected):
    client = client_for(world, role)
    kwargs = {"format": "json"} if method != "get" and body is not None else {}
    response = getattr(client, method)(_fill(path, objects), _fill(body, objects), **kwargs)
    assert response.status_code == expected, response.content.decode()[:400]
    if expected >= 400 and expected != 405:
        assert CHINESE.search(response.content.decode()), response.content.decode()[:400]


def test_transition_answers_the_new_state_and_what_the_caller_may_do_next(world, objects):
    response = client_for(world, "village").post(
        f"/api/cases/{objects['c_a1']}/transitions/start_appraisal/", HOME_CHECK, format="json"
    )
    body = response.json()
    assert body["state"] == "village_appraisal" and body["state_label"] == "村级评议"
    assert "publish_notice" in body["available_transitions"]
    assert {"deadline", "days_left", "timeline"} <= set(body)
    assert [e["action"] for e in body["timeline"]] == ["report", "start_appraisal"]


def test_second_identical_step_loses_with_409_and_the_current_state(world, objects):
    url = f"/api/cases/{objects['c_a1']}/transitions/start_appraisal/"
    client = client_for(world, "village")
    assert client.post(url, HOME_CHECK, format="json").status_code == 200
    again = client.post(url, HOME_CHECK, format="json")
    assert again.status_code == 409
    assert again.json()["state"] == "village_appraisal"
    assert MonitoringCase.objects.get(pk=objects["c_a1"]).events.filter(action="start_appraisal").count() == 1


def test_docs_page_loads_nothing_from_another_site(world, objects):
    html = client_for(world, "anon").get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    # Same origin only (the split Swagger view serves its start-up script from /api/docs/?script=).
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "/api/schema/" in client_for(world, "anon").get("/api/docs/?script=").content.decode()


# --- robustness: bad input is a clean 4xx in Chinese and changes nothing ---------------------

BAD_INPUT = [
    ("post", "/api/cases/{c_a1}/transitions/withdraw/", "{broken", "application/json", 400),
    ("post", "/api/cases/{c_a1}/transitions/withdraw/", "[]", "application/json", 400),
    ("post", "/api/cases/{c_a1}/transitions/withdraw/", '{"comment": {"a": 1}}', "application/json", 400),
    ("post", "/api/cases/{c_a1}/transitions/withdraw/", '{"comment": ["a", "b"]}', "application/json", 400),
    ("post", "/api/cases/{c_a1}/transitions/withdraw/", "reason", "text/plain", 415),
    (
        "post",
        "/api/cases/{c_a1}/objections/",
        '{"raised_on": [[[]]], "raised_by": "x", "content": "y"}',
        "application/json",
        400,
    ),
    ("post", "/api/cases/", "{broken", "application/json", 400),
    ("post", "/api/visits/", '{"household": "abc", "visitors": "x"}', "application/json", 400),
    ("post", "/api/visits/", '{"household": 1.5, "visitors": "x"}', "application/json", 400),
    ("post", "/api/visits/", '{"household": {h_a1}, "visitors": "x", "food_secure": "maybe"}', "application/json", 400),
    ("post", "/api/visits/", '{"household": {h_a1}, "visitors": "x", "latitude": 999}', "application/json", 400),
    ("post", "/api/visits/", "[1]", "application/json", 400),
    ("patch", "/api/income-records/{i_a1}/", '{"wage_income": "-5"}', "application/json", 400),
    ("get", "/api/households/?relocated=maybe", None, None, 400),
    ("get", "/api/households/?town=abc", None, None, 400),
    ("get", "/api/households/?village=999999", None, None, 400),
    ("get", "/api/cases/?state=nonsense", None, None, 400),
    ("get", "/api/cases/?overdue=perhaps", None, None, 400),
    ("get", "/api/income-records/?annual=x", None, None, 400),
    ("get", "/api/households/99999999999/", None, None, 404),
    ("get", "/api/cases/99999999999/", None, None, 404),
    ("get", "/api/households/?page=-1", None, None, 404),
    ("get", "/api/households/?relocated=2", None, None, 400),
    ("get", "/api/income-records/?year=0.5", None, None, 400),
    ("get", "/api/visits/?case=1e5", None, None, 400),
    ("get", "/api/cases/0.5/", None, None, 404),
    ("post", "/api/objections/0.5/resolve/", '{"upheld": false, "resolution": "x"}', "application/json", 404),
    ("get", "/api/no-such-endpoint/", None, None, 404),
]


@pytest.mark.parametrize(
    "method,path,body,content_type,expected", BAD_INPUT, ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in BAD_INPUT]
)
def test_bad_input_is_refused_in_chinese(world, objects, method, path, body, content_type, expected):
    client = client_for(world, "village")
    path = path.format(**objects)
    if body is None:
        response = getattr(client, method)(path)
    else:
        body = body.replace("{h_a1}", str(objects["h_a1"]))
        response = getattr(client, method)(path, data=body.encode(), content_type=content_type)
    assert response.status_code == expected, response.content.decode()[:400]
    assert response["Content-Type"] == "application/json"
    assert CHINESE.search(response.content.decode()), response.content.decode()[:400]
    assert MonitoringCase.objects.get(pk=objects["c_a1"]).state == "reported"


def test_read_only_fields_are_not_changed_by_patch(world, objects):
    member = Member.objects.get(pk=objects["m_a1"])
    record = IncomeRecord.objects.get(pk=objects["i_a1"])
    client = client_for(world, "village")
    client.patch(
        f"/api/members/{member.pk}/",
        {"sex": "F" if member.sex == "M" else "M", "birth_date": "1900-01-01"},
        format="json",
    )
    client.patch(
        f"/api/income-records/{record.pk}/",
        {"total_net_income": "1", "per_capita_net_income": "1", "household_size": 99},
        format="json",
    )
    fresh_member, fresh_record = Member.objects.get(pk=member.pk), IncomeRecord.objects.get(pk=record.pk)
    assert (fresh_member.sex, fresh_member.birth_date) == (member.sex, member.birth_date)
    assert (fresh_record.total_net_income, fresh_record.per_capita_net_income, fresh_record.household_size) == (
        record.total_net_income,
        record.per_capita_net_income,
        record.household_size,
    )


def test_schema_documents_the_error_answers_and_list_shapes(world):
    schema = client_for(world, "anon").get("/api/schema/?format=json").json()
    transition = schema["paths"]["/api/cases/{id}/transitions/{name}/"]["post"]["responses"]
    assert {"200", "400", "403", "404", "409"} <= set(transition)
    assert all("content" in transition[code] for code in ("400", "403", "404", "409"))
    overdue = schema["paths"]["/api/cases/overdue/"]["get"]
    assert overdue["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PaginatedCaseListList"
    )
    assert "state" in {p["name"] for p in overdue["parameters"]}
    # A case not yet categorised answers category "": the schema must allow it.
    category = schema["components"]["schemas"]["CaseList"]["properties"]["category"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in category["oneOf"]
