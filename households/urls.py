from django.urls import path

from . import import_views, views

app_name = "households"

urlpatterns = [
    path("", views.household_list, name="list"),
    path("new/", views.household_create, name="create"),
    path("quality/", views.quality_report, name="quality"),
    path("import/", import_views.import_upload, name="import"),
    path("import/template/<str:fmt>/", import_views.import_template, name="import-template"),
    path("import/jobs/<int:pk>/", import_views.import_job_detail, name="import-job"),
    path("import/jobs/<int:pk>/status/", import_views.import_job_status, name="import-job-status"),
    path("<int:pk>/", views.household_detail, name="detail"),
    path("<int:pk>/edit/", views.household_edit, name="edit"),
    path("<int:pk>/members/new/", views.member_create, name="member-create"),
    path("<int:pk>/members/<int:member_pk>/edit/", views.member_edit, name="member-edit"),
    path("<int:pk>/incomes/new/", views.income_create, name="income-create"),
    path("<int:pk>/incomes/<int:income_pk>/edit/", views.income_edit, name="income-edit"),
]
