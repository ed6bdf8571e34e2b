from django import template

from screening import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def can_screen(context):
    """The 部门筛查 link is shown to those the page does not answer 403 (roles are cached: no query)."""
    return selectors.may_upload(context["request"].user)


@register.simple_tag(takes_context=True)
def may_see_warnings(context):
    """The 预警 link for village, town and county (roles are cached: no query). Its count is
    filled in by static/js/warning-count.js, so no page pays a query for it."""
    from households import selectors as household_selectors
    from households.models import Role

    return household_selectors.has_role(
        context["request"].user, Role.VILLAGE_CADRE, Role.TOWN_OFFICIAL, Role.COUNTY_OFFICER
    )
