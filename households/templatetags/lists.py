"""Column headers of sortable tables (households.listing): a link that sorts by the column,
then the other way round, keeping every filter; aria-sort says where the list stands."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(context, key, label, css=""):
    request = context["request"]
    current = context["sorting"]
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("cursor", None)
    active = current.key == key
    params["sort"] = f"-{key}" if active and not current.descending else key
    state = ("descending" if current.descending else "ascending") if active else "none"
    mark = ("↓" if current.descending else "↑") if active else ""
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a class="sort" href="?{}">{}<span class="sort-mark" aria-hidden="true">{}</span></a></th>',
        css,
        state,
        params.urlencode(),
        label,
        mark,
    )
