from django.urls import path

from . import pages

app_name = "declarations"

urlpatterns = [
    path("declare/", pages.declare, name="declare"),
    path("declare/done/", pages.declare_done, name="declare-done"),
    path("declare/status/", pages.declare_status, name="declare-status"),
    path("declarations/", pages.queue, name="queue"),
    path("declarations/new/", pages.entry, name="entry"),
    path("declarations/<int:pk>/", pages.detail, name="detail"),
    path("declarations/<int:pk>/link/", pages.link, name="link"),
    path("declarations/<int:pk>/start-case/", pages.start_case, name="start-case"),
    path("declarations/<int:pk>/close/", pages.close, name="close"),
    path("declarations/<int:pk>/register/", pages.register, name="register"),
    path("declarations/<int:pk>/photos/<int:photo_pk>/", pages.photo, name="photo"),
    path("declarations/poster/<int:village_pk>/", pages.poster, name="poster"),
]
