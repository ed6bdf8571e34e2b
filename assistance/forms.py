"""The forms of a plan: one measure, its update, a progress note. The page and the API both
validate through these (the API hands its JSON to the same form), so both ask for the same
things and say the same thing when something is missing."""

from django import forms
from django.contrib.auth import get_user_model

from households.models import Department
from monitoring.selectors import contact_candidates

from .models import Measure, MeasureType


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def person_label(user):
    return user.get_full_name() or user.username


class MeasureFieldsForm(forms.Form):
    """The fields of a measure every form shares, bound to the case's county and village."""

    department = forms.ModelChoiceField(Department.objects.none(), label="责任部门", required=False)
    contact_person = forms.ModelChoiceField(get_user_model().objects.none(), label="帮扶责任人", required=False)
    starts_on = forms.DateField(label="开始日期", widget=DateInput())
    ends_on = forms.DateField(label="结束日期", required=False, widget=DateInput(), help_text="可不填：持续进行")
    amount = forms.DecimalField(label="金额（元）", required=False, min_value=0, max_digits=12, decimal_places=2)
    funding_source = forms.CharField(label="资金来源", required=False, max_length=100)
    outcome = forms.CharField(label="成效说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    combination_reason = forms.CharField(
        label="叠加措施理由",
        required=False,
        max_length=200,
        help_text="风险单一而安排多项措施时填写（防止福利陷阱）",
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        village = case.household.village
        self.fields["department"].queryset = Department.objects.filter(county=village.county).order_by("kind")
        self.fields["contact_person"].queryset = contact_candidates(village)
        self.fields["contact_person"].label_from_instance = person_label
        self.fields["contact_person"].error_messages["invalid_choice"] = (
            "帮扶责任人须是本村、本乡镇或本县的干部，或未绑定其他地区的帮扶人员。"
        )
        self.fields["department"].error_messages["invalid_choice"] = "请选择本县的行业部门。"

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "结束日期不能早于开始日期。")
        return data


class MeasureCreateForm(MeasureFieldsForm):
    measure_type = forms.ModelChoiceField(
        MeasureType.objects.filter(active=True),
        label="措施类型",
        to_field_name="code",
        error_messages={"invalid_choice": "没有这个措施类型（或已停用），请从措施目录中选择。"},
    )
    status = forms.ChoiceField(
        label="状态",
        choices=[c for c in Measure.Status.choices if c[0] != Measure.Status.STOPPED],
        initial=Measure.Status.PLANNED,
        required=False,
    )

    field_order = ["measure_type", "status", "department", "contact_person", "starts_on", "ends_on", "amount"]

    def clean_status(self):
        return self.cleaned_data.get("status") or Measure.Status.PLANNED


class MeasureUpdateForm(MeasureFieldsForm):
    """A change to a measure's facts. Every field is optional in the API (PATCH): only what
    is sent changes; the page sends them all."""

    status = forms.ChoiceField(label="状态", choices=Measure.Status.choices, required=False)
    note = forms.CharField(
        label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="终止措施时必须填写原因"
    )

    field_order = ["status", "department", "contact_person", "starts_on", "ends_on", "amount", "funding_source"]

    def __init__(self, *args, partial=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.partial = partial
        if partial:
            for field in self.fields.values():
                field.required = False

    def changed_facts(self):
        """The submitted facts: with partial=True only the fields present in the data."""
        if not self.partial:
            return {k: v for k, v in self.cleaned_data.items() if k not in ("status", "note")}
        return {k: self.cleaned_data[k] for k in self.fields if k in self.data and k not in ("status", "note")}


class ProgressForm(forms.Form):
    note = forms.CharField(
        label="进展情况", widget=forms.Textarea(attrs={"rows": 3}), error_messages={"required": "请填写进展情况。"}
    )
    status = forms.ChoiceField(label="状态改为", choices=[("", "不变"), *Measure.Status.choices], required=False)


class StopForm(forms.Form):
    note = forms.CharField(
        label="终止原因",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "终止措施请填写原因。"},
    )
