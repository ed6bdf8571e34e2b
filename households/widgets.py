"""Widgets shared by the registry's forms and filters and by the layers above."""

from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils import formats
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe


class ChainedSelect(forms.Select):
    """A village dropdown narrowed by the town chosen in another (static/js/lists.js): each
    option carries its town's id. Without JavaScript every village stays offered; the filter
    itself never depends on the narrowing."""

    def __init__(self, *args, parent_field="town", **kwargs):
        super().__init__(*args, **kwargs)
        self.attrs.setdefault("data-chain-parent", parent_field)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None and getattr(instance, "parent_id", None):
            option["attrs"]["data-parent"] = str(instance.parent_id)
        return option


def _attrs_html(attrs):
    """django/forms/widgets/attrs.html: ` name="value"` per attribute, a bare name for True,
    nothing for False."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{_format_s(value)}"')
    return "".join(parts)


def _format_s(value):
    """{{ value|stringformat:'s' }}: "%s" of the value, escaped unless it was safe."""
    text = "%s" % (value,)  # noqa: UP031  (the filter's own formatting)
    return text if isinstance(value, SafeData) else escape(text)


class FastSelectRenderer(TemplatesSetting):
    """The project's form renderer (settings.FORM_RENDERER): templates from the template
    engine (templates/django/forms/ words every dropdown's empty choice), with the select
    widget's template (templates/django/forms/widgets/select.html) written here in Python,
    character for character: rendered as a template it was a third of a list page's
    rendering (a filter form of five selects and a village select of dozens of options).
    tests/households/test_widgets.py compares the two on every kind of select."""

    SELECT_TEMPLATE = "django/forms/widgets/select.html"

    def render(self, template_name, context, request=None):
        if template_name != self.SELECT_TEMPLATE:
            return super().render(template_name, context, request)
        return mark_safe(render_select(context["widget"]))  # noqa: S308  (escaped in render_select)


def render_select(widget):
    """The HTML templates/django/forms/widgets/select.html writes for a widget context."""
    out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs_html(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_label(group_name)}">')
        for option in group_choices:
            label = "请选择" if option["label"] == "---------" else _label(option["label"])
            out.append(
                f'\n  <option value="{_format_s(option["value"])}"{_attrs_html(option["attrs"])}>{label}</option>\n'
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _label(value):
    """{{ value }} in a template: localized, then escaped unless safe."""
    return conditional_escape(formats.localize(value))
