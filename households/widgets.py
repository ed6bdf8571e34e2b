"""Widgets shared by the registry's forms and filters and by the layers above."""

from django import forms


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
