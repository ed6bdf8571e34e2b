"""Navigation links of the county's outputs: the dashboard (village, town, county) and the
access log (county officers). Roles are cached on the request's user: no query."""

from django import template

from fanpin.reports.selectors import may_see_dashboard
from households import selectors as household_selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_link(context):
    return may_see_dashboard(context["request"].user)


@register.simple_tag(takes_context=True)
def access_log_link(context):
    return household_selectors.may_see_access_log(context["request"].user)
