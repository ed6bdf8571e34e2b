"""The declaration forms: the public one (plain words, a honeypot) and the cadre's entry of a
declaration received by the hotline, at the window or in the village WeChat group. The API
validates with the same forms, so a page and an app get the same Chinese messages."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from households import idnumber
from households.models import Area
from households.text import normalize_phone, validate_phone, validate_text

from ..forms import DateInput, MultipleFileField
from ..models import Declaration, RiskType

MAX_PHOTOS = 4

# The kinds of hardship in the words a household uses, each mapped to its risk type (seed 004).
PLAIN_RISKS = [
    (RiskType.ILLNESS, "家里有人生大病、慢性病，看病花钱多"),
    (RiskType.DISABILITY, "家里有人残疾"),
    (RiskType.EDUCATION, "孩子上学花钱多，负担重"),
    (RiskType.DISASTER, "遭了灾（洪水、干旱、冰雹、火灾等）"),
    (RiskType.ACCIDENT, "家里有人出了意外事故"),
    (RiskType.EMPLOYMENT, "打工没活干，收入不稳"),
    (RiskType.INDUSTRY, "种地、养殖或小生意亏了"),
    (RiskType.LABOUR, "家里缺劳力，没人能干活"),
    (RiskType.HOUSING, "住房不安全（危房、漏雨）"),
    (RiskType.WATER, "吃水难、水不干净"),
    (RiskType.LOAN, "小额贷款到期还不上"),
    (RiskType.OTHER, "其他困难"),
]

HONEYPOT = "website"
HONEYPOT_MESSAGE = "提交未被接受：表单中隐藏的“网址”一栏应当留空。如您是正常填写，请刷新页面后重新提交。"


def villages():
    return Area.objects.filter(level=Area.Level.VILLAGE).select_related("parent").order_by("path")


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class DeclarationForm(forms.Form):
    """What a household tells about itself. `village` lists every village (grouped by town in
    the page; the town select only narrows it)."""

    village = VillageChoiceField(
        label="所在村",
        queryset=Area.objects.none(),
        empty_label="请选择村",
        error_messages={"required": "请选择您所在的村。", "invalid_choice": "请从列表中选择您所在的村。"},
    )
    name = forms.CharField(
        label="姓名", max_length=50, error_messages={"required": "请填写您的姓名。"},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )  # fmt: skip
    id_number = forms.CharField(
        label="身份证号", max_length=30, error_messages={"required": "请填写您的身份证号。"},
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )  # fmt: skip
    phone = forms.CharField(
        label="手机或电话", max_length=30, error_messages={"required": "请填写联系电话，村干部会打给您。"},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )  # fmt: skip
    situation = forms.CharField(
        label="家里遇到了什么困难",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": "请简单说说家里遇到的困难。"},
    )
    risk_types = forms.MultipleChoiceField(
        label="困难属于哪一类（可多选）",
        choices=PLAIN_RISKS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "困难类型“%(value)s”不在可选范围内。"},
    )
    photos = MultipleFileField(label=f"照片（可选，最多 {MAX_PHOTOS} 张）", required=False)

    def __init__(self, *args, village_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = village_queryset if village_queryset is not None else villages()

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        validate_text(name)
        return name

    def clean_id_number(self):
        return idnumber.parse(self.cleaned_data["id_number"]).number

    def clean_phone(self):
        phone = normalize_phone(self.cleaned_data["phone"])
        validate_phone(phone)
        return phone

    def clean_situation(self):
        situation = self.cleaned_data["situation"].strip()
        validate_text(situation, multiline=True)
        return situation

    def clean_photos(self):
        photos = self.cleaned_data.get("photos") or []
        if len(photos) > MAX_PHOTOS:
            raise ValidationError(f"最多上传 {MAX_PHOTOS} 张照片，您选了 {len(photos)} 张。")
        return photos


class PublicDeclarationForm(DeclarationForm):
    """The public page: a honeypot field people never see (hidden by the stylesheet)."""

    website = forms.CharField(
        label="网址（请留空）",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean(self):
        # Said for the whole form: the field itself is hidden from people.
        if self.cleaned_data.get("website"):
            raise ValidationError(HONEYPOT_MESSAGE, code="honeypot")
        return super().clean()


CADRE_SOURCES = [c for c in Declaration.Source.choices if c[0] != Declaration.Source.ONLINE]


class CadreDeclarationForm(DeclarationForm):
    """A declaration a cadre received (12317 hotline, service window, village WeChat group)."""

    source = forms.ChoiceField(
        label="收到申报的渠道", choices=CADRE_SOURCES, error_messages={"invalid_choice": "请选择热线、窗口或微信群。"}
    )
    declared_on = forms.DateField(label="收到申报的日期", widget=DateInput(), initial=timezone.localdate)
    client_uuid = forms.UUIDField(required=False, widget=forms.HiddenInput)

    field_order = ["source", "declared_on", "village", "name", "id_number", "phone", "situation", "risk_types"]

    def clean_declared_on(self):
        day = self.cleaned_data["declared_on"]
        if day > timezone.localdate():
            raise ValidationError("申报日期不能晚于今天。")
        return day


class LinkForm(forms.Form):
    household = forms.IntegerField(label="农户", error_messages={"required": "请选择要关联的农户。"})


class CloseForm(forms.Form):
    reason = forms.CharField(
        label="办结原因（申报人查询时可以看到）",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        error_messages={"required": "请填写办结原因，申报人查询时会看到。"},
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        validate_text(reason, multiline=True)
        if not reason:
            raise ValidationError("请填写办结原因，申报人查询时会看到。")
        return reason


class StatusForm(forms.Form):
    reference = forms.CharField(label="申报编号", max_length=20, error_messages={"required": "请填写申报编号。"})
    id_last6 = forms.CharField(
        label="身份证号后 6 位", max_length=6, min_length=6,
        error_messages={"required": "请填写身份证号后 6 位。", "min_length": "请填写身份证号最后 6 位。"},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )  # fmt: skip
