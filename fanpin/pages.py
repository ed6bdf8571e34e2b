"""Project-wide pages: where a user lands, the login page (which lists the demo logins in demo
mode only) and the API docs page with a way back to the application."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.templatetags.static import static
from drf_spectacular.views import SpectacularSwaggerSplitView

from fanpin import demo
from households import selectors

# Each kind of user lands on their own work: department staff on their screening uploads, a
# contact person without a role on 我的帮扶, everyone else on 我的待办.
LANDING = {"department": "screening:home", "helper": "assistance:mine"}


@login_required
def home(request):
    return redirect(LANDING.get(selectors.user_profile(request.user), "monitoring:inbox"))


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the JSON schema, a download)."""
    return redirect(static("img/favicon.ico"))


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # FANPIN_DEMO_MODE is set by scripts/run.sh (DEMO_MODE=1) and refused in production
        # (settings.py): a real deployment never tells who may log in.
        if settings.FANPIN_DEMO_MODE:
            context["demo_logins"] = demo.existing_logins()
            context["demo_password"] = settings.FANPIN_DEMO_PASSWORD
        return context


class ApiDocsView(SpectacularSwaggerSplitView):
    """The Swagger UI page, with a header that leads back to the application."""

    template_name = "api_docs.html"
