from django import template

from screening import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def can_screen(context):
    """The 部门筛查 link is shown to those the page does not answer 403 (roles are cached: no query)."""
    return selectors.may_upload(context["request"].user)
