from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound

from fanpin import pages, pwa
from fanpin import views as project_views
from fanpin.auth import obtain_token


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([])
def api_not_found(request, rest=""):
    """An API client gets JSON for an unknown address (e.g. /api/cases/0.5/), not an HTML page."""
    raise NotFound("没有这个接口地址，请对照 /api/docs/ 检查。")


urlpatterns = [
    path("", pages.home, name="home"),
    path("favicon.ico", pages.favicon, name="favicon"),
    path("healthz", project_views.healthz, name="healthz"),
    path("accounts/login/", pages.LoginView.as_view(), name="login"),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("offline/", pwa.offline, name="offline"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("households/", include("households.urls")),
    path("", include("fanpin.reports.urls")),
    path("", include("monitoring.urls")),
    path("", include("monitoring.declarations.urls")),
    path("screening/", include("screening.urls")),
    path("", include("assistance.urls")),
    path("admin/", admin.site.urls),
    path("api/auth/token/", obtain_token, name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", pages.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("households.api")),
    path("api/", include("monitoring.api")),
    path("api/", include("monitoring.declarations.api")),
    path("api/", include("screening.api")),
    path("api/", include("assistance.api")),
    path("api/", include("screening.warning_api")),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
]

handler400 = "fanpin.views.bad_request"
handler403 = "fanpin.views.permission_denied"
handler404 = "fanpin.views.page_not_found"
handler500 = "fanpin.views.server_error"

admin.site.site_header = "防止返贫动态监测和帮扶系统 · 管理后台"
admin.site.site_title = "fanpin 管理后台"
