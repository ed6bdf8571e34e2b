"""Warning pages: inbox with filters, counts and the navigation count; the warning page with
the figure and evidence; verify in two taps; department staff see counts only (issue 10 point 5)."""

import pytest

from monitoring.models import MonitoringCase
from screening.models import RiskWarning, ScreeningUpload

from .warning_helpers import head, upload

pytestmark = pytest.mark.django_db


def two_warnings(world):
    upload(world, "housing", [{"member": head(world.household_a1), "grade": "D"}])
    upload(world, "human_resources", [{"member": head(world.household_a2), "employment_status": "失业"}])


def test_the_inbox_lists_red_first_with_counts_and_the_navigation_count(client, world):
    two_warnings(world)
    client.force_login(world.town_official)
    page = client.get("/screening/warnings/").content.decode()
    assert page.index("农房安全鉴定为 D 级") < page.index("就业状态：失业")
    assert "红色 1" in page and "黄色 1" in page and "待核实 2" in page
    assert 'href="/screening/warnings/"' in page and "js/warning-count.js" in page
    assert client.get("/screening/warnings/count/").json() == {"count": 2}


def test_the_inbox_filters(client, world):
    two_warnings(world)
    client.force_login(world.county_officer)
    page = client.get("/screening/warnings/", {"risk_type": "employment"}).content.decode()
    assert "就业状态：失业" in page and "农房安全鉴定" not in page
    bad = client.get("/screening/warnings/", {"period": "nope"}).content.decode()
    assert "数据月份应写成 YYYY-MM" in bad


def test_the_inbox_query_count_is_bounded(client, world, django_assert_max_num_queries):
    two_warnings(world)
    client.force_login(world.county_officer)
    with django_assert_max_num_queries(16):
        assert client.get("/screening/warnings/").status_code == 200


def test_department_staff_and_nobody_have_no_inbox(client, world):
    client.force_login(world.department_staff)
    assert client.get("/screening/warnings/").status_code == 403
    assert 'href="/screening/warnings/"' not in client.get("/screening/").content.decode()


def test_verify_in_two_taps_lands_on_the_new_case(client, world):
    two_warnings(world)
    warning = RiskWarning.objects.get(risk_type="housing")
    client.force_login(world.village_cadre)
    page = client.get(f"/screening/warnings/{warning.pk}/").content.decode()
    assert "农房安全鉴定为 D 级（危房）" in page and 'id="include"' in page
    response = client.post(f"/screening/warnings/{warning.pk}/verify/", {"decision": "included", "reason": ""})
    case = MonitoringCase.objects.get(household=world.household_a1)
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert RiskWarning.objects.get(pk=warning.pk).reason == "已入户核实，情况属实。"


def test_exclude_without_a_reason_says_so_and_changes_nothing(client, world):
    two_warnings(world)
    warning = RiskWarning.objects.get(risk_type="housing")
    client.force_login(world.village_cadre)
    response = client.post(f"/screening/warnings/{warning.pk}/verify/", {"decision": "excluded"}, follow=True)
    assert "请填写核实情况或排除理由" in response.content.decode()
    assert RiskWarning.objects.get(pk=warning.pk).state == "dispatched"


def test_a_warning_of_another_village_is_404(client, world):
    two_warnings(world)
    warning = RiskWarning.objects.get(risk_type="housing")
    client.force_login(world.village_cadre_b)
    assert client.get(f"/screening/warnings/{warning.pk}/").status_code == 404


def test_department_staff_see_per_upload_counts_only(client, world):
    from screening import warning_services

    from .helpers import service_upload
    from .test_warning_rules import medical
    from .warning_helpers import dept_file

    rows = [medical(head(world.household_a1), "12000", inpatient="是"), medical(head(world.household_a2), "11000",
                                                                                 inpatient="是")]  # fmt: skip
    done = service_upload(world.department_staff, dept_file("medical_insurance", rows))
    first, second = RiskWarning.objects.order_by("pk")
    warning_services.warning_verify(user=world.town_official, warning_id=first.pk, decision="excluded",
                                    reason="已获医疗救助")  # fmt: skip
    client.force_login(world.department_staff)
    page = client.get(f"/screening/uploads/{done.pk}/").content.decode()
    assert "生成预警</dt><dd>2 条" in page and "核实排除</dt><dd>1 条" in page and "待核实</dt><dd>1 条" in page
    assert world.household_a1.number not in page
    assert ScreeningUpload.objects.get(pk=done.pk).status == "done"


def test_the_county_sees_scale_alerts_and_rule_quality(client, world):
    from screening import warning_services
    from screening.models import WarningSettings

    WarningSettings.objects.create(county=world.county, scale_count=2)
    upload(world, "emergency", [
        {"member": head(world.household_a1), "disaster_date": "2026-01-20", "loss": "20000"},
        {"member": head(world.household_a2), "disaster_date": "2026-01-20", "loss": "20000"},
    ])  # fmt: skip
    first = RiskWarning.objects.order_by("pk").first()
    warning_services.warning_verify(user=world.town_official, warning_id=first.pk, decision="included", reason="属实")
    client.force_login(world.county_officer)
    page = client.get("/screening/warnings/analysis/").content.decode()
    assert "东山镇 · 因灾 · 2026-01" in page
    assert "<td>应急受灾损失</td><td>2</td><td>1</td><td>1</td><td>0</td><td>100.0 %</td>" in page
    client.force_login(world.town_official)
    assert client.get("/screening/warnings/analysis/").status_code == 403


def test_a_warning_settings_version_in_force_is_read_only_in_the_admin(client, world):
    import datetime

    from screening.models import WarningSettings

    in_force = WarningSettings.objects.create(county=world.county, effective_from=datetime.date(2026, 1, 1))
    later = WarningSettings.objects.create(county=world.county, effective_from=datetime.date(2099, 1, 1))
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    assert client.get("/admin/screening/warningsettings/").status_code == 200
    page = client.get(f"/admin/screening/warningsettings/{in_force.pk}/change/").content.decode()
    assert 'name="medical_share_monitored"' not in page
    assert (
        'name="medical_share_monitored"'
        in client.get(f"/admin/screening/warningsettings/{later.pk}/change/").content.decode()
    )
    assert client.get("/admin/screening/riskwarning/").status_code == 200
