from django.urls import path

from . import cards, rejection_pages, views

app_name = "monitoring"

urlpatterns = (
    [
        path("inbox/", views.inbox, name="inbox"),
        path("cases/", views.case_list, name="case-list"),
        path("cases/new/", views.case_create, name="case-create"),
        path("cases/<int:pk>/", views.case_detail, name="case-detail"),
        path("cases/<int:pk>/actions/<str:name>/", views.case_action, name="case-action"),
        path("cases/<int:pk>/objections/", views.objection_create, name="objection-create"),
        path(
            "cases/<int:pk>/objections/<int:objection_pk>/resolve/", views.objection_resolve, name="objection-resolve"
        ),
        path("cases/<int:pk>/events/<int:event_pk>/attachment/", views.event_attachment, name="event-attachment"),
        path("cases/<int:pk>/commitment/", views.commitment_scan, name="commitment-scan"),
        path("cases/notice/<int:village_pk>/", views.notice_list, name="notice-list"),
        path("visits/<int:household_pk>/", views.visit_list, name="visit-list"),
        path("visits/<int:household_pk>/new/", views.visit_create, name="visit-create"),
        path("visits/photos/<int:pk>/", views.visit_photo, name="visit-photo"),
    ]
    + rejection_pages.page_urls
    + cards.page_urls
)
