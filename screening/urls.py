from django.urls import path

from . import views

app_name = "screening"

urlpatterns = [
    path("", views.upload_page, name="home"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload"),
    path("uploads/<int:pk>/status/", views.upload_status, name="upload-status"),
    path("uploads/<int:pk>/bad-rows.xlsx", views.bad_rows_download, name="bad-rows"),
    path("templates/<str:kind>/", views.template_download, name="template"),
]
