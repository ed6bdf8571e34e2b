from django.urls import path

from . import views

app_name = "assistance"

urlpatterns = [
    path("cases/<int:pk>/plan/", views.plan, name="plan"),
    path("cases/<int:pk>/plan/new/", views.measure_create, name="measure-create"),
    path("cases/<int:pk>/plan/suggested/", views.suggestion_add, name="suggestion-add"),
    path("measures/<int:pk>/", views.measure_detail, name="measure"),
    path("measures/<int:pk>/progress/", views.measure_progress, name="measure-progress"),
    path("measures/<int:pk>/edit/", views.measure_edit, name="measure-edit"),
    path("measures/<int:pk>/stop/", views.measure_stop, name="measure-stop"),
    path("my-assistance/", views.my_assistance, name="mine"),
]
