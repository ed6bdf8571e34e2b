"""Every service checks scope and permission itself, not only the views (issue 14, "permissions
in every service").

The public functions of every service module (households, monitoring, assistance, screening:
each module whose name contains "services", and the import jobs and rejection records) are
found by introspection. Each that takes a `user` is a user action: it is called with valid
arguments for an object of 东山镇 by users out of scope (the neighbouring county's officer, a
village cadre of another town) and by users of the wrong role (department staff, a user with
no role), and must refuse (PermissionDenied or Http404) with nothing in the database changed.
A function without a user must be named in SYSTEM with the reason it needs no check, so a new
service is covered (or fails here) without anyone remembering to add it.
"""

import datetime
import importlib
import inspect
import pkgutil

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from assistance.catalogue import install_default_catalogue
from assistance.models import Measure
from households.models import Member
from monitoring.county_settings import CountySettings
from monitoring.declarations.services import declaration_submit
from monitoring.models import Objection, State, Visit
from screening.models import RiskWarning
from tests import factories as f
from tests.monitoring.cases import CST, add_users, case_at
from tests.screening.helpers import csv_bytes, medical_row
from tests.screening.warning_helpers import head, upload

PACKAGES = ["households", "monitoring", "assistance", "screening"]
EXTRA_MODULES = ["households.import_jobs", "monitoring.rejections"]

# Functions of the service modules that take no user, and why they need no check.
SYSTEM = {
    # Steps a Celery task or beat runs on work a checked user action created (they take its id).
    "households.import_jobs": {"import_job_run", "import_jobs_sweep", "report_as_json"},
    "screening.services": {
        "upload_prepare",
        "upload_prepare_and_send",
        "task",
        "send_prepare",
        "send_prepare_or_wait",
        "send_chunk",
        "finalize_if_done",
        "chunk_process_and_finalize",
        "file_layout_of",
        "check_chunk",
        "do_chunk",
        "chunk_process",
        "check_finalize",
        "do_finalize",
        "upload_finalize",
        "upload_fail",
        "upload_run_inline",
        "uploads_sweep",
        "settle_duplicates",
        # Pure checks of a period text and of a file's content; and the department row lock
        # upload_create and the command take after check_upload_department.
        "parse_period",
        "check_file",
        "check_upload_create",
    },
    "screening.warning_services": {
        "run_upload_rules",
        "run_platform_rules",
        "record_hits",
        "scale_alerts_check",
        "withdraw_stale",
    },
    # Pure computations and predicates over objects the caller already read in scope.
    "households.services": {
        "active_size",
        "income_record_initial",
        "findings_after_entry",
        # Derived data after a checked household write moved households (the write is checked).
        "households_moved",
    },
    "monitoring.services": {
        "households_moved",  # the cases follow their households (called by the registry's writes)
        "transition_label",
        "unmet_conditions",
        "county_settings_check",
        "withdrawn_case_to_resume",
        "visit_report_facts",  # the facts a report made from a visit starts from (the report is checked)
        "visit_to_report",  # the household's latest unreported visit, for a report the caller checks
    },
    "monitoring.rejections": {"rejected_from", "notification_due", "current_notification", "overdue_notifications_q"},
    # The public self-declaration (no login by design: rate-limited per address and ID number).
    "monitoring.declarations.services": {"new_reference", "declaration_submit"},
}
# Functions that take a user but are reads or predicates answering for that user (scoped
# selectors by another name), not actions: they are not expected to refuse.
READS = {
    "households.import_jobs": {"import_jobs_visible_to", "recent_import_jobs"},
    "monitoring.services": {"actions_for", "available_transitions"},
    "monitoring.rejections": {"may_notify", "may_request_recheck", "overdue_notifications"},
    "assistance.services": {"may_plan", "may_update"},
    "screening.asset_services": {"may_record"},
    # The earlier sync of an offline entry, for the user who repeats it (another user's key is a 400).
    "monitoring.declarations.services": {"declaration_repeated"},
}
# Functions that take a user only to record who caused what a checked action refused or showed.
RECORDERS = {
    # The clash a checked registry write refused (the county sees it in the data-quality report).
    "households.services": {"registry_clashes_record", "export_logged"},  # and the user's own (scoped) export
}


def service_modules():
    names = set(EXTRA_MODULES)
    for package in PACKAGES:
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            if "services" in info.name.rsplit(".", 1)[-1]:
                names.add(info.name)
    return sorted(names)


def public_functions():
    for name in service_modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if inspect.isfunction(value) and value.__module__ == name and not attr.startswith("_"):
                yield name, attr, value


def user_actions():
    return sorted(
        f"{module}.{name}"
        for module, name, fn in public_functions()
        if "user" in inspect.signature(fn).parameters
        and name not in READS.get(module, set()) | RECORDERS.get(module, set())
    )


def test_every_service_function_is_either_a_checked_user_action_or_named_as_system():
    unclassified = [
        f"{module}.{name}"
        for module, name, fn in public_functions()
        if "user" not in inspect.signature(fn).parameters and name not in SYSTEM.get(module, set())
    ]
    assert not unclassified, (
        "service functions without a user: add a case to ACTIONS (take a user and check it) or name them in SYSTEM "
        f"with the reason: {unclassified}"
    )
    assert set(user_actions()) == set(ACTIONS), "every user action has its refusal case below, and nothing else"
    assert len(ACTIONS) >= 30


# --- the objects the actions are tried on (all in 东山镇 of 示例县) ----------------------------


@pytest.fixture
def w(world):
    install_default_catalogue()
    add_users(world)
    world.case = case_at(world, State.MONITORED, contact_person=world.contact)  # 东山村
    world.household_a1b = f.make_household(world.village_a1, members=2)
    world.reported = case_at(world, State.REPORTED, household=world.household_a1b)
    world.measure = Measure.objects.create(case=world.case, measure_type_id="medical_aid")
    world.objection = Objection.objects.create(
        case=world.case,
        raised_by="村民甲",
        raised_on=datetime.date(2026, 3, 3),
        content="收入不实",
        recorded_by=world.village_cadre,
    )
    upload(world, "housing", [{"member": head(world.household_a1), "grade": "D"}])
    world.warning = RiskWarning.objects.get(household=world.household_a1, risk_type="housing")
    world.case_county = case_at(world, State.COUNTY_REVIEW, household=f.make_household(world.village_a1, members=1))
    world.visit = Visit.objects.create(
        household=f.make_household(world.village_a1, members=1), visited_on=TODAY, recorded_by=world.village_cadre
    )
    world.member = Member.objects.filter(household=world.household_a1).first()
    world.settings = CountySettings(county=world.county, effective_from=datetime.date(2030, 1, 1))
    world.declaration = declaration_submit(
        client="203.0.113.9",
        village=world.village_a1,
        name="赵六",
        id_number=f.valid_id(datetime.date(1966, 6, 6)),
        phone="13900139000",
        situation="家中有人大病",
    )
    return world


def file(name="登记表.csv", data=b"\xe6\x88\xb7\xe7\xbc\x96\xe5\x8f\xb7\n"):
    return SimpleUploadedFile(name, data)


TODAY = datetime.date(2026, 3, 12)
ACTIONS = {
    "households.import_jobs.import_job_create": lambda w: {"upload": file()},
    "households.import_jobs.import_job_for": lambda w: {"pk": 1},
    "households.services.household_create": lambda w: {
        "village": w.village_a1,
        "number": "X-1",
        "address": "东山村1号",
    },
    "households.services.household_update": lambda w: {"household": w.household_a1, "address": "改了"},
    "households.services.member_create": lambda w: {
        "household": w.household_a1,
        "name": "新人",
        "id_number": f.valid_id(),
    },
    "households.services.member_update": lambda w: {"member": w.member, "name": "改名"},
    "households.services.income_record_save": lambda w: {"household": w.household_a1, "year": 2025, "wage_income": 1},
    "households.services.personal_data_viewed": lambda w: {"household": w.household_a1, "channel": "page"},
    "monitoring.services.case_transition": lambda w: {
        "case_id": w.reported.pk,
        "name": "withdraw",
        "data": {"comment": "误报"},
    },
    "monitoring.services.county_settings_save": lambda w: {"settings": w.settings},
    "monitoring.services.case_create": lambda w: {
        "household": w.household_a1.pk,
        "channel": "cadre_visit",
        "discovered_on": TODAY,
        "reason": "大病",
    },
    "monitoring.services.case_create_from_visit": lambda w: {"visit": w.visit},
    "screening.asset_services.asset_comparison_record": lambda w: {
        "case_id": w.case_county.pk,
        "result": "no_lists",
        "note": "未收到",
    },
    "monitoring.services.case_event_record": lambda w: {"case_id": w.case.pk, "action": "note", "label": "记录"},
    "monitoring.services.case_import_historical": lambda w: {
        "household": w.household_a2.pk,
        "channel": "cadre_visit",
        "discovered_on": datetime.date(2024, 1, 1),
        "reason": "历史",
        "category": "sudden",
        "primary_risk": "illness",
        "determined_on": datetime.date(2024, 2, 1),
        "document_number": "〔2024〕1号",
    },
    "monitoring.services.objection_record": lambda w: {
        "case_id": w.case.pk,
        "raised_by": "村民乙",
        "raised_on": TODAY,
        "content": "有异议",
    },
    "monitoring.services.objection_resolve": lambda w: {
        "objection_id": w.objection.pk,
        "upheld": False,
        "resolution": "不成立",
    },
    "monitoring.services.check_visitor": lambda w: {"household": w.household_a1},
    "monitoring.services.visit_create": lambda w: {
        "household": w.household_a1.pk,
        "visited_on": TODAY,
        "notes": "走访",
    },
    "monitoring.services.case_contact_person_set": lambda w: {"case_id": w.case.pk, "contact_person": w.contact},
    "monitoring.rejections.notification_record": lambda w: {
        "case_id": w.case.pk,
        "notified_on": TODAY,
        "method": "in_person",
        "recipient": "户主",
    },
    "monitoring.rejections.recheck_request_record": lambda w: {
        "case_id": w.case.pk,
        "requested_on": TODAY,
        "requested_by": "户主",
        "content": "申请复核",
    },
    "monitoring.declarations.services.declaration_record": lambda w: {
        "village": w.village_a1,
        "source": "hotline",
        "declared_on": TODAY,
        "name": "王五",
        "id_number": f.valid_id(datetime.date(1970, 1, 2)),
        "phone": "13800138000",
        "situation": "生病",
    },
    "monitoring.declarations.services.declaration_link": lambda w: {
        "declaration_id": w.declaration.pk,
        "household": w.household_a1.pk,
    },
    "monitoring.declarations.services.declaration_start_case": lambda w: {"declaration_id": w.declaration.pk},
    "monitoring.declarations.services.declaration_close": lambda w: {
        "declaration_id": w.declaration.pk,
        "reason": "重复",
    },
    "assistance.services.measure_create": lambda w: {
        "case_id": w.case.pk,
        "data": {"measure_type": "medical_aid", "starts_on": TODAY},
    },
    "assistance.services.measure_update": lambda w: {"measure_id": w.measure.pk, "changes": {"amount": 5}},
    "assistance.services.measure_progress": lambda w: {"measure_id": w.measure.pk, "note": "进展"},
    "assistance.services.measure_stop": lambda w: {"measure_id": w.measure.pk, "reason": "停止"},
    "screening.services.check_upload_department": lambda w: {"kind": "medical_insurance", "county": w.county.code},
    "screening.services.upload_create": lambda w: {
        "kind": "medical_insurance",
        "county": w.county.code,
        "period": "2026-02",
        "upload": file("医保.csv", csv_bytes([medical_row(w.member)])),
    },
    "screening.warning_services.warning_dispatch": lambda w: {"warning_id": w.warning.pk},
    "screening.warning_services.warning_verify": lambda w: {
        "warning_id": w.warning.pk,
        "decision": "excluded",
        "reason": "已核实",
    },
}


# Who must be refused. Out of scope: the neighbouring county's officer (the highest area role,
# elsewhere) and a village cadre of the other town. Wrong role: department staff of the same
# county and a signed-in user with no role; for the department upload, a village cadre.
OUT_OF_SCOPE = ["other_county_officer", "village_cadre_b"]
WRONG_ROLE = {"default": ["department_staff", "nobody"], "screening.services": ["village_cadre", "nobody"]}


def fingerprint():
    """Every row of every table of the four apps (and the users' roles)."""
    models = [m for label in PACKAGES for m in apps.get_app_config(label).get_models()]
    return {m._meta.label: list(m.objects.order_by("pk").values_list()) for m in models}


# An import has no target of its own (each row's village is checked by the importer), so only
# the role is refused; a new household's village outside the scope is refused as a field error
# of the form, in the same words as a village that does not exist (no existence oracle).
NO_TARGET = {"households.import_jobs.import_job_create"}
REFUSALS = {"households.services.household_create": ValidationError}


def refusers(path):
    module = path.rsplit(".", 1)[0]
    wrong_role = WRONG_ROLE.get(module, WRONG_ROLE["default"])
    return wrong_role if path in NO_TARGET else OUT_OF_SCOPE + wrong_role


@pytest.mark.parametrize("path", sorted(ACTIONS))
def test_each_user_action_refuses_users_out_of_scope_and_of_the_wrong_role_and_changes_nothing(w, path):
    module_name, name = path.rsplit(".", 1)
    service = getattr(importlib.import_module(module_name), name)
    with time_machine.travel(datetime.datetime.combine(TODAY, datetime.time(10), CST), tick=False):
        for username in refusers(path):
            user = getattr(w, username)
            kwargs = ACTIONS[path](w)
            before = fingerprint()
            with pytest.raises(REFUSALS.get(path, (PermissionDenied, Http404))) as refused:
                service(user=user, **kwargs)
            if path in REFUSALS:
                assert "该村不存在，或您无权" in str(refused.value)
            assert fingerprint() == before, f"{path} as {username} changed the database"
