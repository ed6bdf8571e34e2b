"""Data safety (issue 14 "What to build" item 4): no endpoint or admin action deletes a
household, member, income record, case, objection, visit or audit row."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from drf_spectacular.generators import SchemaGenerator

PROTECTED = [
    "households.Household",
    "households.Member",
    "households.IncomeRecord",
    "households.PersonalDataView",
    "monitoring.MonitoringCase",
    "monitoring.Objection",
    "monitoring.Visit",
    "monitoring.CaseEvent",
]


def test_the_api_has_no_delete_operation():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    deletes = [path for path, item in schema["paths"].items() if "delete" in item]
    assert deletes == []


@pytest.mark.parametrize("label", PROTECTED)
def test_no_admin_may_delete_registry_case_or_audit_rows(db, label):
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", "root-pass-1")
    model_admin = next(ma for model, ma in admin.site._registry.items() if model._meta.label == label)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_the_admin_delete_page_of_a_household_is_refused(world):
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", "root-pass-1")
    client = Client()
    client.force_login(superuser)
    url = f"/admin/households/household/{world.household_a1.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert world.household_a1.__class__.objects.filter(pk=world.household_a1.pk).exists()
