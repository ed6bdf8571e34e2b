"""The data each step asks for. One form per action, used to render the page and to
validate the API's request body, so both ask for exactly the same things."""

from django import forms
from django.utils import timezone

from households.models import Household
from households.uploads import DocumentFileField, ImageFileField

from . import selectors
from .models import (
    AppraisalResult,
    Category,
    Channel,
    EliminationReason,
    MonitoringCase,
    Objection,
    RiskType,
    Visit,
    validate_document,
    validate_image,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def today():
    return timezone.localdate()


class StepForm(forms.Form):
    """Every step may carry a comment and one attachment; `reason_required` steps need a reason."""

    reason_required = False
    # Conditions of the transition that this form's fields satisfy (monitoring.conditions):
    # condition name → the fields, in order; an unmet one is shown beside the first of them left
    # empty, and these fields are marked required although the form lets them be blank (facts
    # already on record need not be typed again).
    CONDITION_FIELDS: dict[str, tuple[str, ...]] = {}
    # The form field holding the step's own date: the conditions (the elimination checklist)
    # are judged for that day (monitoring.conditions.check_day). None: the day it is taken.
    step_date_field: str | None = None
    comment = forms.CharField(label="意见/说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    attachment = DocumentFileField(
        label="附件", required=False, help_text="可选，如会议记录、公示照片的扫描件", validators=[validate_document]
    )

    def __init__(self, *args, case=None, **kwargs):
        self.case = case
        super().__init__(*args, **kwargs)
        if self.reason_required:
            self.fields["comment"].required = True
            self.fields["comment"].label = "原因"
            self.fields["comment"].error_messages["required"] = "请填写原因。"
        # Dates that default to today may be left out (an API call need not send them).
        self.today_fields = [n for n, f in self.fields.items() if f.initial is today]
        for name in self.today_fields:
            self.fields[name].required = False

    def clean(self):
        data = super().clean()
        for name in self.today_fields:
            if not data.get(name) and name not in self.errors:
                data[name] = today()
        return data

    @property
    def marked_required(self):
        """Fields shown with the required mark (households/_field.html) beyond the form's own."""
        return {name for names in self.CONDITION_FIELDS.values() for name in names}

    def add_condition_errors(self, conditions):
        """Each unmet condition beside the field that satisfies it (the first one left empty),
        the others above the form."""
        for condition, reason in conditions.items():
            names = self.CONDITION_FIELDS.get(condition, ())
            empty = [n for n in names if not self.cleaned_data.get(n)]
            self.add_error((empty or names or [None])[0], reason)

    def case_facts(self):
        """Fields written onto the case before the transition's conditions are checked."""
        return {}

    def save_relations(self, case):
        """Relations the step records (many-to-many), written once the case is saved."""

    def step_date(self):
        return self.cleaned_data.get(self.step_date_field) if self.step_date_field else None

    def transition_kwargs(self):
        return {}


def home_checker_candidates(case):
    """Who may be chosen as a home checker: the active users acting in the case's village or its
    town (issue 7 point 6); anyone else is named in the text field."""
    from django.contrib.auth import get_user_model

    if case is None:
        return get_user_model().objects.none()
    village = case.household.village
    return (
        get_user_model()
        .objects.filter(is_active=True, roles__area_id__in=[village.pk, village.parent_id])
        .distinct()
        .order_by("username")
    )


class CheckerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class StartAppraisalForm(StepForm):
    home_check_on = forms.DateField(label="入户核实日期", required=False, widget=DateInput())
    home_checker_users = CheckerChoiceField(
        label="核实人员（本村、本乡镇干部）",
        queryset=Household.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    home_checkers = forms.CharField(
        label="其他核实人员（姓名，用顿号分隔）",
        required=False,
        max_length=200,
        help_text="至少两名不同的人员：可勾选上面的干部，也可填写姓名",
    )
    home_check_note = forms.CharField(label="核实情况", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    commitment_signed_on = forms.DateField(label="承诺授权书签署日期", required=False, widget=DateInput())
    commitment_scan = DocumentFileField(label="承诺授权书扫描件", required=False, validators=[validate_document])
    commitment_archive_ref = forms.CharField(
        label="纸质承诺书村级档案编号",
        required=False,
        max_length=100,
        help_text="仅当本县允许纸质件留存村级时，可代替扫描件",
    )

    CONDITION_FIELDS = {
        "home_check_recorded": ("home_check_on", "home_checker_users"),
        "commitment_recorded": ("commitment_signed_on", "commitment_scan"),
    }
    FACTS = [
        "home_check_on",
        "home_checkers",
        "home_check_note",
        "commitment_signed_on",
        "commitment_scan",
        "commitment_archive_ref",
    ]

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.fields["home_checker_users"].queryset = home_checker_candidates(case)
        if case is not None:
            for name in self.FACTS:
                value = getattr(case, name)
                if value:
                    self.fields[name].initial = value
            if case.pk:
                self.fields["home_checker_users"].initial = list(case.home_checker_users.values_list("pk", flat=True))

    def case_facts(self):
        # Fields left blank keep what was recorded before.
        facts = {name: self.cleaned_data[name] for name in self.FACTS if self.cleaned_data.get(name)}
        if self.cleaned_data.get("home_checker_users"):
            facts["chosen_checkers"] = list(self.cleaned_data["home_checker_users"])
        return facts

    def save_relations(self, case):
        chosen = self.cleaned_data.get("home_checker_users")
        if chosen:
            case.home_checker_users.set(chosen)


def _notice_kwargs(form, elimination):
    """Start and computed end of a notice. The end and, past the holiday data, the note to
    check it by hand go into cleaned_data so the audit row records them."""
    start = form.cleaned_data["notice_start"]
    period = selectors.notice_period(form.case, start, elimination=elimination)
    form.cleaned_data["notice_end"] = period.date
    if period.note:
        form.cleaned_data["notice_note"] = period.note
    return {"start": start, "end": period.date}


class PublishNoticeForm(StepForm):
    appraisal_on = forms.DateField(label="民主评议日期", widget=DateInput())
    appraisal_attendance = forms.IntegerField(label="参会人数", min_value=1)
    appraisal_result = forms.ChoiceField(label="评议结果", choices=AppraisalResult.choices)
    appraisal_minutes = forms.CharField(label="评议记录", widget=forms.Textarea(attrs={"rows": 3}))
    # The notice names the proposed category and the reason (risk types): the appraisal settles
    # them, the county confirms them at determination. Prefilled from the report when given there.
    category = forms.ChoiceField(label="拟纳入类别", choices=Category.choices, required=False)
    primary_risk = forms.ChoiceField(label="主要风险类型（公示的纳入原因）", choices=RiskType.choices, required=False)
    secondary_risks = forms.MultipleChoiceField(
        label="次要风险类型", choices=RiskType.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    notice_start = forms.DateField(
        label="公示开始日期", initial=today, widget=DateInput(), help_text="评议结果为不同意纳入时不公示，直接不予纳入"
    )

    NOTICE_FACTS = ("category", "primary_risk", "secondary_risks")

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        if case is not None:
            for name in self.NOTICE_FACTS:
                if getattr(case, name):
                    self.fields[name].initial = getattr(case, name)

    @property
    def negative(self):
        return self.cleaned_data.get("appraisal_result") == AppraisalResult.REJECTED

    def clean(self):
        data = super().clean()
        if self.negative:
            # A negative appraisal ends the case as 不予纳入 in this step: no notice, no category.
            return data
        # Blank keeps what the report recorded; the notice cannot go out without them.
        for name, message in (
            ("category", "请选择拟纳入类别（公示名单要列出）。"),
            ("primary_risk", "请选择主要风险类型（公示名单中的纳入原因）。"),
        ):
            if not data.get(name) and not getattr(self.case, name, ""):
                self.add_error(name, message)
        return data

    def case_facts(self):
        facts = {
            k: self.cleaned_data[k]
            for k in ("appraisal_on", "appraisal_attendance", "appraisal_result", "appraisal_minutes")
        }
        if self.negative:
            return facts
        for name in ("category", "primary_risk"):
            if self.cleaned_data.get(name):
                facts[name] = self.cleaned_data[name]
        primary = facts.get("primary_risk") or getattr(self.case, "primary_risk", "")
        if self.cleaned_data.get("secondary_risks"):
            facts["secondary_risks"] = [r for r in self.cleaned_data["secondary_risks"] if r != primary]
        return facts

    def transition_kwargs(self):
        if self.negative:
            self.cleaned_data.pop("notice_start", None)
            return {"reason": self.cleaned_data.get("comment") or self.cleaned_data["appraisal_minutes"]}
        return _notice_kwargs(self, elimination=False)


class PlainStepForm(StepForm):
    pass


class ReasonForm(StepForm):
    reason_required = True


class EndingForm(ReasonForm):
    def transition_kwargs(self):
        return {"reason": self.cleaned_data["comment"], "on": today()}


class CloseForm(EndingForm):
    """自然减少: the household dissolved by registry facts, or merged into another (recorded here)."""

    merged_into = forms.CharField(
        label="并入农户户编号",
        required=False,
        max_length=30,
        help_text="该户并入其他农户时填写；全户成员均已死亡或迁出时留空",
    )

    def clean_merged_into(self):
        number = (self.cleaned_data.get("merged_into") or "").strip()
        if not number:
            return None
        found = Household.objects.filter(number=number).select_related("village").first()
        if found is None:
            raise forms.ValidationError(f"登记册中没有户编号为 {number} 的农户。")
        if self.case is not None:
            if found.pk == self.case.household_id:
                raise forms.ValidationError("不能并入本户自身。")
            if found.village.county != self.case.household.village.county:
                raise forms.ValidationError("并入农户须是本县登记的农户。")
        return found

    def case_facts(self):
        merged = self.cleaned_data.get("merged_into")
        return {"merged_into": merged} if merged else {}


class TownApproveForm(StepForm):
    reviewed_on = forms.DateField(label="审核日期", initial=today, widget=DateInput())
    step_date_field = "reviewed_on"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].required = True
        self.fields["comment"].label = "审核意见"
        self.fields["comment"].error_messages["required"] = "请填写审核意见。"

    def transition_kwargs(self):
        return {"reviewed_on": self.cleaned_data["reviewed_on"], "note": self.cleaned_data["comment"]}


class CountyApproveForm(StepForm):
    category = forms.ChoiceField(label="监测对象类别", choices=Category.choices)
    primary_risk = forms.ChoiceField(label="主要风险类型", choices=RiskType.choices)
    secondary_risks = forms.MultipleChoiceField(
        label="次要风险类型", choices=RiskType.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    determined_on = forms.DateField(label="认定日期", initial=today, widget=DateInput())
    document_number = forms.CharField(label="认定文号", max_length=100)
    risk_note = forms.CharField(
        label="其他风险说明", max_length=200, required=False, help_text="风险类型选择“其他”时必填"
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        if case is not None:
            self.fields["category"].initial = case.category or None
            self.fields["primary_risk"].initial = case.primary_risk or None
            self.fields["secondary_risks"].initial = case.secondary_risks
            self.fields["risk_note"].initial = case.risk_note

    def clean(self):
        data = super().clean()
        risks = [data.get("primary_risk"), *data.get("secondary_risks", [])]
        if RiskType.OTHER in risks and not data.get("risk_note"):
            self.add_error("risk_note", "风险类型选择了“其他”，请说明具体风险。")
        # The determination date's bounds (discovery, town review, today) are the model's.
        return data

    def case_facts(self):
        note = self.cleaned_data.get("risk_note")
        return {"risk_note": note} if note else {}

    def transition_kwargs(self):
        d = self.cleaned_data
        return {k: d[k] for k in ("category", "primary_risk", "secondary_risks", "determined_on", "document_number")}


class ProposeEliminationForm(StepForm):
    appraisal_on = forms.DateField(label="消除评议日期", initial=today, widget=DateInput())
    step_date_field = "appraisal_on"

    def transition_kwargs(self):
        return {"appraisal_on": self.cleaned_data["appraisal_on"]}


class EliminationNoticeForm(StepForm):
    notice_start = forms.DateField(label="公示开始日期", initial=today, widget=DateInput())
    step_date_field = "notice_start"

    def transition_kwargs(self):
        return _notice_kwargs(self, elimination=True)


class TownAcceptEliminationForm(TownApproveForm):
    def transition_kwargs(self):
        return {"accepted_on": self.cleaned_data["reviewed_on"]}


class CountyApproveEliminationForm(StepForm):
    reason = forms.ChoiceField(label="风险消除方式", choices=EliminationReason.choices)
    eliminated_on = forms.DateField(label="风险消除日期", initial=today, widget=DateInput())
    step_date_field = "eliminated_on"

    def transition_kwargs(self):
        return {"eliminated_on": self.cleaned_data["eliminated_on"], "reason": self.cleaned_data["reason"]}


STEP_FORMS = {
    "start_appraisal": StartAppraisalForm,
    "publish_notice": PublishNoticeForm,
    "close_notice": PlainStepForm,
    "return_for_recheck": ReasonForm,
    "town_approve": TownApproveForm,
    "town_return": ReasonForm,
    "county_approve": CountyApproveForm,
    "county_return": ReasonForm,
    "propose_elimination": ProposeEliminationForm,
    "publish_elimination_notice": EliminationNoticeForm,
    "close_elimination_notice": PlainStepForm,
    "town_accept_elimination": TownAcceptEliminationForm,
    "county_approve_elimination": CountyApproveEliminationForm,
    "elimination_return": ReasonForm,
    "reject": EndingForm,
    "withdraw": EndingForm,
    "close": CloseForm,
}


class CaseCreateForm(forms.ModelForm):
    secondary_risks = forms.MultipleChoiceField(
        label="次要风险类型", choices=RiskType.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = MonitoringCase
        fields = [
            "household",
            "channel",
            "discovered_on",
            "reason",
            "category",
            "primary_risk",
            "secondary_risks",
            "risk_note",
            "contact_person",
        ]
        # The household is found on the picker page (case_pick.html) and carried here.
        widgets = {
            "household": forms.HiddenInput(),
            "discovered_on": DateInput(),
            "reason": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, households=None, contacts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households if households is not None else Household.objects.none()
        if contacts is not None:
            self.fields["contact_person"].queryset = contacts
        self.fields["discovered_on"].initial = today
        self.fields["channel"].initial = Channel.CADRE_VISIT

    def clean_discovered_on(self):
        value = self.cleaned_data["discovered_on"]
        if value > today():
            raise forms.ValidationError("发现日期不能晚于今天。")
        return value


class HistoricalCaseForm(forms.Form):
    """A case determined before the county used fanpin (services.case_import_historical)."""

    household = forms.ModelChoiceField(label="农户", queryset=Household.objects.none())
    channel = forms.ChoiceField(label="发现渠道", choices=Channel.choices)
    discovered_on = forms.DateField(label="发现日期", widget=DateInput())
    reason = forms.CharField(label="申报理由/风险情况", widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ChoiceField(label="监测对象类别", choices=Category.choices)
    primary_risk = forms.ChoiceField(label="主要风险类型", choices=RiskType.choices)
    secondary_risks = forms.MultipleChoiceField(
        label="次要风险类型", choices=RiskType.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    risk_note = forms.CharField(label="其他风险说明", max_length=200, required=False)
    determined_on = forms.DateField(label="原认定日期", widget=DateInput())
    document_number = forms.CharField(label="原认定文号", max_length=100)
    comment = forms.CharField(label="补录说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, households=None, **kwargs):
        super().__init__(*args, **kwargs)
        if households is not None:
            self.fields["household"].queryset = households


class ObjectionForm(forms.ModelForm):
    class Meta:
        model = Objection
        fields = ["raised_by", "raised_on", "content"]
        widgets = {"raised_on": DateInput(), "content": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["raised_on"].initial = today


class ObjectionResolveForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label="核实结论",
        coerce=lambda v: v in (True, "true", "True", "1"),
        choices=[("1", "异议成立（退回重新核实）"), ("0", "异议不成立")],
        widget=forms.RadioSelect,
    )
    resolution = forms.CharField(label="核实情况", widget=forms.Textarea(attrs={"rows": 3}))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(ImageFileField):
    """Several photos in one input (Django's documented pattern), each checked and re-encoded."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class VisitForm(forms.ModelForm):
    new_risks = forms.MultipleChoiceField(
        label="新发现风险", choices=RiskType.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    photos = MultipleFileField(label="照片（可选）", required=False, validators=[validate_image])
    open_case = forms.BooleanField(label="发现风险，据此申报监测对象", required=False)
    # What the household looked like when the form was loaded (services.household_version_of):
    # a visit synced later never silently overwrites what someone else changed meanwhile.
    household_version = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    class Meta:
        model = Visit
        fields = [
            "visited_on",
            "visitors",
            "food_secure",
            "clothing_secure",
            "education_secure",
            "medical_secure",
            "housing_secure",
            "water_secure",
            "findings",
            "income_change",
            "new_risks",
            "next_step",
            "latitude",
            "longitude",
            "client_uuid",
        ]
        widgets = {
            "visited_on": DateInput(),
            "findings": forms.Textarea(attrs={"rows": 3}),
            "next_step": forms.Textarea(attrs={"rows": 2}),
            "latitude": forms.HiddenInput(),
            "longitude": forms.HiddenInput(),
            "client_uuid": forms.HiddenInput(),
        }

    def __init__(self, *args, household=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = today
        if household is not None and not self.is_bound:
            # Start from the household's last known state: only changes need typing.
            for key, _ in Household.SECURITY_ITEMS:
                self.fields[f"{key}_secure"].initial = getattr(household, f"{key}_secure")
            self.fields["household_version"].initial = selectors.household_version_of(household)

    def validate_unique(self):
        # A client_uuid already stored is a resubmission (a double tap, an offline form synced
        # twice): services.visit_create returns the first visit instead of refusing the form.
        exclude = self._get_validation_exclusions() | {"client_uuid"}
        try:
            self.instance.validate_unique(exclude=exclude)
        except forms.ValidationError as exc:
            self._update_errors(exc)

    def clean_visited_on(self):
        value = self.cleaned_data["visited_on"]
        if value > today():
            raise forms.ValidationError("走访日期不能晚于今天。")
        return value

    def clean(self):
        data = super().clean()
        if data.get("open_case") and not (data.get("new_risks") or data.get("findings")):
            self.add_error("new_risks", "申报监测对象时请勾选发现的风险或填写走访情况。")
        return data
