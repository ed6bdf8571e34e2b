"""The main navigation: which section the current page belongs to, and which links this
user can use (a link that only leads to a 403 page is noise on a small screen)."""

from django import template

from households import selectors

register = template.Library()

# Pages under a section other than their URL's app: a visit belongs to the household it is
# about; the 403/404 pages (no resolver match) highlight nothing.
SECTIONS = {
    "monitoring:inbox": "inbox",
    "assistance:mine": "mine",
    "households:quality": "quality",
    "households:import": "import",
    "households:import-template": "import",
    "households:import-job": "import",
    "monitoring:visit-list": "households",
    "monitoring:visit-create": "households",
    "monitoring:visit-photo": "households",
}


@register.simple_tag(takes_context=True)
def nav_section(context):
    match = getattr(context.get("request"), "resolver_match", None)
    if match is None:
        return ""
    name = match.view_name
    if name in SECTIONS:
        return SECTIONS[name]
    if match.namespace == "declarations":
        return "declarations"
    if match.namespace in ("monitoring", "assistance"):
        return "cases"
    if match.namespace == "reports":
        return "access-log" if name == "reports:access-log" else "dashboard"
    if match.namespace == "households":
        return "households"
    if match.namespace == "screening" and name.startswith("screening:warning"):
        return "warnings"
    if match.namespace == "screening":
        return "screening"
    return ""


@register.simple_tag(takes_context=True)
def can_import(context):
    """Same rule as the import page's 403 (roles are cached on the user: no query)."""
    user = context["request"].user
    return selectors.is_admin(user) or any(
        r.role in selectors.REGISTRY_WRITE_ROLES and r.area_id for r in selectors.user_roles(user)
    )


@register.simple_tag(takes_context=True)
def has_area_role(context):
    """A village, town or county role (or the administrator): the declaration queue's users."""
    user = context["request"].user
    return selectors.is_admin(user) or any(r.area_id for r in selectors.user_roles(user))


@register.inclusion_tag("households/_scope_note.html", takes_context=True)
def scope_note(context):
    """Why a list is empty for a user with no area: department staff see households only
    through their own screening uploads (DOMAIN.md §1, §9); a user without any role sees nothing."""
    user = context["request"].user
    roles = selectors.user_roles(user)
    if selectors.is_admin(user) or any(r.area_id for r in roles):
        return {"show": False}
    departments = [r.department.name for r in roles if r.department_id]
    return {"show": True, "departments": departments}


@register.simple_tag(takes_context=True)
def nav_profile(context):
    return selectors.user_profile(context["request"].user)
