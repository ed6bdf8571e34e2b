from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/refresh/", views.dashboard_refresh, name="dashboard-refresh"),
    path("reports/monthly/", views.monthly, name="monthly"),
    path("reports/monthly.xlsx", views.monthly_download, name="monthly-download"),
    path("access-log/", views.access_log, name="access-log"),
    path("cases/ledger.xlsx", views.ledger, name="ledger"),
    path("exports/<int:pk>/", views.export_job, name="export-job"),
    path("exports/<int:pk>/status/", views.export_job_status, name="export-job-status"),
    path("exports/<int:pk>/download/", views.export_job_download, name="export-job-download"),
]
