"""Column headers of sortable tables (households.listing): a link that sorts by the column,
then the other way round, keeping every filter; aria-sort says where the list stands."""

from django import template
from django.utils import formats
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from .amounts import yuan

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


_ROW = (
    '\n    <tr role="row">'
    '\n      <td role="cell" data-label="户编号"><a href="{url}">{number}</a></td>'
    '\n      <td role="cell" data-label="户主">{head}</td>'
    '\n      <td role="cell" class="mono" data-label="户主身份证号">{head_id}</td>'
    '\n      <td role="cell" data-label="村">{village}</td>'
    '\n      <td role="cell" data-label="户类型">{type}{relocated}</td>'
    '\n      <td role="cell" class="num" data-label="人口">{size}</td>'
    '\n      <td role="cell" class="num" data-label="人均纯收入">{income}</td>'
    '\n      <td role="cell" data-label="特殊群体">{groups}</td>'
    "\n    </tr>\n  "
)


def _text(value):
    """{{ value }} in a template: localized (numbers), escaped."""
    return conditional_escape(formats.localize(value))


@register.simple_tag
def household_rows(households):
    """The household list's table rows (templates/households/list.html), written here: the
    HTML the template's loop wrote (a dozen lookups and filters a row, a tenth of a list page's
    CPU), the same characters. Reads what the view put on each row (detail_url, village_label,
    masked_head_id, special_groups) and the annotations."""
    rows = []
    for h in households:
        income = h.latest_per_capita_income
        if income is not None:
            income_html = f'{_text(yuan(income))} <small class="muted">({_text(h.latest_income_year)})</small>'
        else:
            income_html = "—"
        rows.append(
            _ROW.format(
                url=_text(h.detail_url),
                number=_text(h.number),
                head=_text(h.head_name or "（未登记户主）"),
                head_id=_text(h.masked_head_id),
                village=_text(h.village_label),
                type=_text(h.get_household_type_display()),
                relocated=' <span class="badge badge-muted">搬迁</span>' if h.relocated else "",
                size=_text(h.size),
                income=income_html,
                groups="".join(f'<span class="badge badge-warn">{_text(label)}</span>' for label in h.special_groups),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308  (every value above is escaped)
