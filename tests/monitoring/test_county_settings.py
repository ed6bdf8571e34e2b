"""Dated county settings (issue 7 point 10): every setting carries an effective date, a change
applies from its date on, a case keeps the rules it ran under, the admin shows the history."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from monitoring import selectors, services
from monitoring.county_settings import ALWAYS, county_settings_on
from monitoring.models import CountySettings, State
from tests import factories as f
from tests.monitoring.cases import APPRAISAL, CST, case_at, report

pytestmark = pytest.mark.django_db

D = datetime.date


def at(day, hour=10):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, hour, tzinfo=CST), tick=False)


def test_the_settings_in_force_on_a_day_are_the_latest_version_dated_on_or_before_it(world):
    w = world
    assert county_settings_on(w.county, D(2026, 3, 1)).determination_days == 15  # defaults, unsaved
    CountySettings.objects.create(county=w.county, effective_from=D(2026, 4, 1), determination_days=20)
    CountySettings.objects.create(county=w.county, effective_from=D(2026, 6, 1), determination_days=25)
    assert county_settings_on(w.county, D(2026, 3, 31)).determination_days == 15
    assert county_settings_on(w.county, D(2026, 4, 1)).determination_days == 20
    assert county_settings_on(w.county, D(2026, 7, 1)).determination_days == 25
    assert county_settings_on(w.other_county, D(2026, 7, 1)).determination_days == 15
    defaults = county_settings_on(w.county, D(2026, 1, 1))
    assert (defaults.min_months_before_elimination, defaults.plan_due_days, defaults.away_visit_interval_days) == (
        6,
        15,
        90,
    )
    assert (defaults.rejection_notice_workdays, defaults.re_report_window_days) == (5, 90)
    assert defaults.commitment_paper_allowed is False and defaults.effective_from == ALWAYS


def test_a_longer_limit_set_today_does_not_change_the_deadline_of_a_case_discovered_before(world):
    w = world
    case = report(w)  # discovered 1 Mar 2026 under the default 15 days
    CountySettings.objects.create(county=w.county, effective_from=D(2026, 3, 2), determination_days=25)
    assert selectors.deadline(case, today=D(2026, 3, 10)).date == D(2026, 3, 16)
    later = report(w, household=f.make_household(w.village_a1), discovered_on=D(2026, 3, 2))
    assert selectors.deadline(later, today=D(2026, 3, 10)).date == D(2026, 3, 27)
    # The overdue list (SQL) judges each case by the version of its discovery date too.
    with at(D(2026, 3, 20)):
        overdue = set(selectors.cases_visible_to(w.county_officer).filter(selectors.overdue_q()))
    assert overdue == {case}


def test_the_notice_length_is_the_one_in_force_on_the_notice_start(world):
    w = world
    CountySettings.objects.create(county=w.county, effective_from=D(2026, 3, 3), notice_days=7)
    case = case_at(w, State.PUBLIC_NOTICE)  # notice from 2 Mar: still 5 days
    assert case.notice_end == D(2026, 3, 6)
    other = case_at(w, State.VILLAGE_APPRAISAL, household=f.make_household(w.village_a1))
    with at(D(2026, 3, 3)):
        other = services.case_transition(
            user=w.village_cadre,
            case_id=other.pk,
            name="publish_notice",
            data={**APPRAISAL, "notice_start": "2026-03-03"},
        )
    assert other.notice_end == D(2026, 3, 9)


def test_the_visit_interval_is_the_one_in_force_on_the_day_of_the_last_visit(world):
    w = world
    case = case_at(w, State.MONITORED)  # determined 9 Mar 2026, never visited
    CountySettings.objects.create(county=w.county, effective_from=D(2026, 3, 20), visit_interval_days=90)
    with at(D(2026, 4, 15)):
        # Determined under the 30-day interval: due on 8 Apr, so overdue now.
        assert list(selectors.overdue_visits(w.county_officer)) == [case]


def test_a_version_in_force_cannot_be_changed_and_a_new_one_cannot_start_in_the_past(world):
    w = world
    with at(D(2026, 3, 10)):
        version = CountySettings.objects.create(county=w.county, effective_from=D(2026, 3, 1))
        version.notice_days = 9
        with pytest.raises(services.Conflict):
            services.county_settings_save(user=w.admin, settings=version)
        with pytest.raises(services.ValidationError) as exc:
            services.county_settings_save(
                user=w.admin, settings=CountySettings(county=w.county, effective_from=D(2026, 3, 9))
            )
        assert exc.value.message_dict["effective_from"] == ["生效日期不能早于今天：设置变更只对生效日期之后适用。"]
        saved = services.county_settings_save(
            user=w.admin, settings=CountySettings(county=w.county, effective_from=D(2026, 3, 10), notice_days=7)
        )
    assert saved.created_by == w.admin
    assert CountySettings.objects.get(pk=version.pk).notice_days == 5


@pytest.fixture
def superuser_client(client, world):
    user = get_user_model().objects.create_superuser("root", password="pw-123456")
    client.force_login(user)
    return client


def test_the_admin_shows_each_version_read_only_once_in_force_with_the_county_history(superuser_client, world):
    w = world
    with at(D(2026, 3, 10)):
        old = CountySettings.objects.create(county=w.county, effective_from=D(2026, 1, 1), notice_days=5)
        CountySettings.objects.create(county=w.county, effective_from=D(2026, 3, 1), notice_days=7)
        page = superuser_client.get(reverse("admin:monitoring_countysettings_change", args=[old.pk]))
        assert page.status_code == 200
        text = page.content.decode()
        assert "本县设置历史" in text and "2026-03-01" in text and "2026-01-01" in text
        assert 'name="notice_days"' not in text  # read-only: no input
        refused = superuser_client.post(
            reverse("admin:monitoring_countysettings_add"),
            {"county": w.county.pk, "effective_from": "2026-03-09", "notice_days": 6, **_defaults()},
        )
        assert refused.status_code == 200 and "生效日期不能早于今天" in refused.content.decode()
        added = superuser_client.post(
            reverse("admin:monitoring_countysettings_add"),
            {"county": w.county.pk, "effective_from": "2026-03-11", "notice_days": 6, **_defaults()},
        )
        assert added.status_code == 302
    assert CountySettings.objects.filter(county=w.county).count() == 3
    assert CountySettings.objects.get(effective_from=D(2026, 3, 11)).created_by.username == "root"


def _defaults():
    fields = CountySettings._meta.fields
    skip = {"id", "county", "effective_from", "notice_days", "created_at", "created_by"}
    data = {}
    for field in fields:
        if field.name in skip or not field.editable:
            continue
        default = field.get_default()
        if isinstance(default, bool):
            if default:
                data[field.name] = "on"
        else:
            data[field.name] = default
    return data
