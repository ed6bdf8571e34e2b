"""Navigation links of the county's outputs: the dashboard (village, town, county) and the
access log (county officers). Roles are cached on the request's user: no query."""

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from fanpin.reports.selectors import may_see_dashboard
from households import selectors as household_selectors
from monitoring.templatetags.navigation import can_import, has_area_role, nav_section
from screening.templatetags.screening_nav import can_screen, may_see_warnings

register = template.Library()

_urls: dict[tuple[str, str], str] = {}


def _url(name):
    """reverse(name) of an argument-free route, remembered per script prefix (the navigation
    reversed fifteen routes twice a page)."""
    key = (get_script_prefix(), name)
    if key not in _urls:
        _urls[key] = reverse(name)
    return _urls[key]


@register.simple_tag(takes_context=True)
def nav_links(context):
    """The main navigation's links for this user and page (nav_html writes them), worked
    out once per request: the bar and the 更多 menu show the same ones."""
    request = context["request"]
    links = getattr(request, "_fanpin_nav_links", None)
    if links is not None:
        return links
    user = request.user
    profile = household_selectors.user_profile(user)
    section = nav_section(context)
    links = []

    def add(name, label, key=None, **extra):
        links.append({"url": _url(name), "label": label, "current": key is not None and section == key, **extra})

    if profile == "helper":
        add("assistance:mine", "我的帮扶", "mine")
    if profile != "department":
        add("monitoring:inbox", "我的待办", "inbox")
        add("monitoring:case-list", "监测对象", "cases")
        add("households:list", "农户登记", "households")
        if has_area_role(context):
            add("declarations:queue", "农户申报", "declarations")
        if may_see_warnings(context):
            add("screening:warnings", "预警", "warnings", count_url=_url("screening:warning-count"))
        if may_see_dashboard(user):
            add("reports:dashboard", "统计看板", "dashboard")
        if profile != "helper":
            add("assistance:mine", "我的帮扶", "mine")
        add("households:quality", "数据质量", "quality")
    if can_import(context):
        add("households:import", "批量导入", "import")
    if can_screen(context):
        add("screening:home", "部门筛查", "screening")
    if household_selectors.may_see_access_log(user):
        add("reports:access-log", "访问日志", "access-log")
    if user.is_staff:
        add("api-docs", "API 文档")
        add("admin:index", "管理后台")
    request._fanpin_nav_links = links
    return links


_COUNT_BADGE = '<span class="badge badge-bad" data-warning-count hidden></span>'


@register.simple_tag(takes_context=True)
def nav_html(context, in_menu=False):
    """The navigation's links as HTML, written here: the bar's (`in_menu` False; the warnings
    link carries id="nav-warnings") or the 更多 menu's. The same HTML a template loop over
    nav_links wrote, for a tenth of its time (it ran twice on every page)."""
    parts = []
    for link in nav_links(context):
        count_url = link.get("count_url")
        attrs = ""
        if count_url:
            attrs = ("" if in_menu else ' id="nav-warnings"') + f' data-count-url="{conditional_escape(count_url)}"'
        if link["current"]:
            attrs += ' aria-current="page"'
        badge = _COUNT_BADGE if count_url else ""
        parts.append(
            f'<a href="{conditional_escape(link["url"])}"{attrs}>{conditional_escape(link["label"])}{badge}</a>\n'
        )
    parts.append("\n")  # the loop's template ended with a line break
    return mark_safe("".join(parts))  # noqa: S308  (every value above is escaped)


@register.simple_tag(takes_context=True)
def dashboard_link(context):
    return may_see_dashboard(context["request"].user)


@register.simple_tag(takes_context=True)
def access_log_link(context):
    return household_selectors.may_see_access_log(context["request"].user)
