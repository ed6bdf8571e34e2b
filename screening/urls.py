from django.urls import path

from . import asset_views, views, warning_views

app_name = "screening"

urlpatterns = [
    path("", views.upload_page, name="home"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload"),
    path("uploads/<int:pk>/status/", views.upload_status, name="upload-status"),
    path("uploads/<int:pk>/bad-rows.xlsx", views.bad_rows_download, name="bad-rows"),
    path("templates/<str:kind>/", views.template_download, name="template"),
    path("warnings/", warning_views.inbox, name="warnings"),
    path("warnings/count/", warning_views.warning_count, name="warning-count"),
    path("warnings/analysis/", warning_views.analysis, name="warning-analysis"),
    path("warnings/<int:pk>/", warning_views.warning_detail, name="warning"),
    path("warnings/<int:pk>/verify/", warning_views.warning_verify, name="warning-verify"),
    path("cases/<int:pk>/asset-comparison/", asset_views.comparison_record, name="asset-comparison"),
    path("warnings/<int:pk>/dispatch/", warning_views.warning_dispatch, name="warning-dispatch"),
]
