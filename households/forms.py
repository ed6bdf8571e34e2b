"""Forms of the registry pages.

The forms parse and present input; the rules live in the model (ID number, derived birth
date and sex, uniqueness) and in the services (scope, totals, per-capita income). Views
call the services with `cleaned_data` and put the services' field errors back on the form
with `add_service_errors`, so a page, the API, the importer and the admin reject the same
input with the same Chinese message.
"""

from django import forms
from django.core.validators import MaxLengthValidator

from . import idnumber, services
from .models import Household, IncomeRecord, Member

MEMBER_FORM_FIELDS = list(services.MEMBER_FIELDS)
# The head is registered together with the household: relation is fixed and a new
# household's head is necessarily living there.
HEAD_FORM_FIELDS = [name for name in MEMBER_FORM_FIELDS if name not in ("relation", "status")]


def add_service_errors(form, exc):
    """Attach a service's ValidationError to the form: field errors on their fields."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class HouseholdForm(forms.ModelForm):
    class Meta:
        model = Household
        fields = services.HOUSEHOLD_FIELDS
        widgets = {
            "address": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            "bank_account": forms.TextInput(attrs={"inputmode": "numeric"}),
        }

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["village"]
        field.queryset = villages.select_related("parent")
        field.label_from_instance = lambda area: f"{area.parent.name} {area.name}" if area.parent_id else area.name
        if self.instance.pk is None and not self.is_bound:
            only = list(villages[:2])
            if len(only) == 1:
                # A village cadre with one village: nothing to choose.
                self.initial["village"] = only[0].pk
                field.empty_label = None
        self.fields["number"].widget.attrs.setdefault("autocomplete", "off")

    def validate_unique(self):
        # Uniqueness is the service's check: it answers a number held outside the user's
        # scope without saying where (or that) it is registered (services.CLASH_MESSAGES).
        pass

    def security_rows(self):
        """(status checkbox, note) pairs for 两不愁三保障 and water, in display order."""
        return [(self[f"{key}_secure"], self[f"{key}_note"]) for key, _ in Household.SECURITY_ITEMS]

    def general_fields(self):
        security = {f"{key}_{part}" for key, _ in Household.SECURITY_ITEMS for part in ("secure", "note")}
        return [self[name] for name in self.fields if name not in security]


class MemberForm(forms.ModelForm):
    """A member's data. `household` (when known) lets the form say that the household
    already has a head before the database constraint would."""

    class Meta:
        model = Member
        fields = MEMBER_FORM_FIELDS
        widgets = {
            "id_number": forms.TextInput(
                attrs={
                    "autocomplete": "off",
                    "autocapitalize": "characters",
                    "spellcheck": "false",
                    "placeholder": "18 位，末位可为 X",
                }
            ),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "work_months": forms.NumberInput(attrs={"min": 0, "max": 12, "inputmode": "numeric"}),
            "disability_level": forms.NumberInput(attrs={"min": 1, "max": 4, "inputmode": "numeric"}),
        }

    def __init__(self, *args, household=None, head=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.household = household
        # People are asked their name first, then the ID number.
        self.order_fields(["name", "id_number", "relation", "status"])
        if head:
            for name in ("relation", "status"):
                self.fields.pop(name, None)
        # Spaces and full-width digits are folded before the length check (max 18).
        id_field = self.fields["id_number"]
        id_field.max_length = None
        id_field.validators = [v for v in id_field.validators if not isinstance(v, MaxLengthValidator)]
        id_field.widget.attrs["maxlength"] = 24

    def validate_unique(self):
        pass  # the service's check, as on HouseholdForm

    def clean_id_number(self):
        # Lower-case x and full-width digits are accepted and stored as the canonical number.
        return idnumber.normalize(self.cleaned_data.get("id_number"))

    def clean(self):
        cleaned = super().clean()
        relation = cleaned.get("relation")
        status = cleaned.get("status", Member.Status.ACTIVE)
        if self.household is not None and relation == Member.Relation.HEAD and status == Member.Status.ACTIVE:
            other_heads = self.household.members.filter(
                relation=Member.Relation.HEAD, status=Member.Status.ACTIVE
            ).exclude(pk=self.instance.pk)
            if other_heads.exists():
                self.add_error("relation", "该户已有在户的户主。请先将原户主改为其他关系，或登记其死亡/迁出。")
        return cleaned


class IncomeForm(forms.ModelForm):
    declared_total = forms.DecimalField(
        label="家庭纯收入合计（元）",
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=0,
        help_text="可不填，系统按各项计算；填写时须等于 工资性 + 生产经营性收入 − 生产经营性支出 + 财产性 + 转移性。",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )

    class Meta:
        model = IncomeRecord
        fields = services.INCOME_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in services.INCOME_PARTS:
            self.fields[name].widget.attrs.update({"step": "0.01", "inputmode": "decimal", "min": "0"})
            self.fields[name].label = f"{self.fields[name].label}（元）"
        self.fields["month"].widget.attrs.update({"min": 1, "max": 12, "inputmode": "numeric"})
        self.fields["year"].widget.attrs.update({"inputmode": "numeric"})

    def _post_clean(self):
        # Totals, household size and per-capita income are computed, and the record is
        # validated, by services.income_record_save; the form only parses the input.
        pass

    def service_data(self):
        data = {name: self.cleaned_data[name] for name in services.INCOME_FIELDS}
        return data, self.cleaned_data.get("declared_total")


def member_service_data(form):
    return {name: form.cleaned_data[name] for name in form.fields}
