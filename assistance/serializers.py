"""API shapes for plans and measures. They describe and render; request data is validated by
the page's forms (assistance.forms) and written by assistance.services."""

from rest_framework import serializers

from fanpin.api import ReadOnlyBlankChoicesMixin
from monitoring.models import RiskType
from monitoring.serializers import CriterionSerializer

from .models import Measure, MeasureProgress, MeasureType


def person_name(user):
    if user is None:
        return None
    return user.get_full_name() or user.username


class MeasureTypeSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    risk_types = serializers.ListField(child=serializers.ChoiceField(choices=RiskType.choices), read_only=True)
    risk_labels = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = MeasureType
        fields = [
            "code",
            "label",
            "kind",
            "kind_label",
            "risk_types",
            "risk_labels",
            "department_kind",
            "continues_after_elimination",
            "continuation_note",
            "active",
        ]
        read_only_fields = fields


class ProgressSerializer(ReadOnlyBlankChoicesMixin, serializers.ModelSerializer):
    author = serializers.IntegerField(source="author_id", read_only=True, allow_null=True)
    author_name = serializers.SerializerMethodField()
    changes = serializers.DictField(
        child=serializers.ListField(), read_only=True, help_text="修改的字段：{字段: [原值, 新值]}"
    )

    class Meta:
        model = MeasureProgress
        fields = ["id", "at", "author", "author_name", "note", "from_status", "to_status", "changes"]
        read_only_fields = fields

    def get_author_name(self, entry) -> str | None:
        return person_name(entry.author)


class MeasureSerializer(serializers.ModelSerializer):
    measure_type = serializers.CharField(source="measure_type_id", read_only=True, help_text="措施类型代码")
    measure_type_label = serializers.CharField(source="measure_type.label", read_only=True)
    kind = serializers.ChoiceField(source="measure_type.kind", choices=MeasureType.Kind.choices, read_only=True)
    department = serializers.IntegerField(source="department_id", read_only=True, allow_null=True)
    department_name = serializers.SerializerMethodField()
    contact_person = serializers.IntegerField(
        source="contact_person_id", read_only=True, allow_null=True, help_text="帮扶责任人（用户 id）"
    )
    contact_person_name = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    continues_after_elimination = serializers.BooleanField(
        source="measure_type.continues_after_elimination", read_only=True
    )
    progress = ProgressSerializer(many=True, read_only=True)

    class Meta:
        model = Measure
        fields = [
            "id",
            "case",
            "measure_type",
            "measure_type_label",
            "kind",
            "department",
            "department_name",
            "contact_person",
            "contact_person_name",
            "starts_on",
            "ends_on",
            "amount",
            "funding_source",
            "status",
            "status_label",
            "outcome",
            "combination_reason",
            "stop_reason",
            "continues_after_elimination",
            "created_at",
            "updated_at",
            "progress",
        ]
        read_only_fields = fields

    def get_department_name(self, measure) -> str | None:
        return measure.department.name if measure.department else None

    def get_contact_person_name(self, measure) -> str | None:
        return person_name(measure.contact_person)


class MeasureCreateSerializer(serializers.Serializer):
    """Request body of a new measure (validated by assistance.forms.MeasureCreateForm)."""

    measure_type = serializers.CharField(help_text="措施类型代码（GET /api/measure-types/）")
    status = serializers.ChoiceField(
        choices=Measure.Status.choices, required=False, help_text="默认 planned；新措施不能是 stopped"
    )
    department = serializers.IntegerField(required=False, allow_null=True, help_text="本县行业部门 id")
    contact_person = serializers.IntegerField(required=False, allow_null=True, help_text="帮扶责任人（用户 id）")
    starts_on = serializers.DateField(required=False, help_text="开始日期，默认今天")
    ends_on = serializers.DateField(required=False, allow_null=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True)
    funding_source = serializers.CharField(max_length=100, required=False, allow_blank=True)
    outcome = serializers.CharField(required=False, allow_blank=True)
    combination_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="风险单一而安排多项措施时的理由"
    )


class MeasureUpdateSerializer(serializers.Serializer):
    """Request body of a change (PATCH: only the fields sent change). Stopping needs `note`."""

    status = serializers.ChoiceField(choices=Measure.Status.choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True, help_text="说明；状态改为 stopped 时必须填写原因")
    department = serializers.IntegerField(required=False, allow_null=True)
    contact_person = serializers.IntegerField(required=False, allow_null=True)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False, allow_null=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True)
    funding_source = serializers.CharField(max_length=100, required=False, allow_blank=True)
    outcome = serializers.CharField(required=False, allow_blank=True)
    combination_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ProgressCreateSerializer(serializers.Serializer):
    note = serializers.CharField(
        help_text="进展情况（谁、何时由服务器记录）",
        error_messages={"required": "请填写进展情况。", "blank": "请填写进展情况。"},
    )
    status = serializers.ChoiceField(
        choices=Measure.Status.choices, required=False, allow_blank=True, help_text="可选：新的状态"
    )


class RuleWarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class SuggestionSerializer(serializers.Serializer):
    measure_type = serializers.CharField(help_text="措施类型代码")
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label: DRF pops it
    kind = serializers.ChoiceField(choices=MeasureType.Kind.choices)
    answers = serializers.ListField(child=serializers.ChoiceField(choices=RiskType.choices))
    reason = serializers.CharField()
    prefill = serializers.DictField(help_text="一键添加时预填的字段（POST /api/cases/{id}/measures/ 的请求体）")

    def to_representation(self, suggestion):
        return {
            "measure_type": suggestion.measure_type.code,
            "label": suggestion.measure_type.label,
            "kind": suggestion.measure_type.kind,
            "answers": suggestion.answers,
            "reason": suggestion.reason,
            "prefill": {k: v for k, v in suggestion.prefill.items() if v is not None},
        }


class PlanSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    state = serializers.CharField()
    has_labour_capacity = serializers.BooleanField()
    risk_types = serializers.ListField(child=serializers.ChoiceField(choices=RiskType.choices))
    plan_due_on = serializers.DateField(allow_null=True)
    measures = MeasureSerializer(many=True)
    rule_warnings = RuleWarningSerializer(many=True)
    suggestions = SuggestionSerializer(many=True)
    elimination_checklist = CriterionSerializer(many=True)
    continuing_after_elimination = serializers.ListField(
        child=serializers.IntegerField(), help_text="风险消除后仍延续的措施 id"
    )

    def to_representation(self, plan):
        return {
            "case": plan.case.pk,
            "state": plan.case.state,
            "has_labour_capacity": plan.facts.has_labour,
            "risk_types": plan.facts.risks,
            "plan_due_on": plan.due_on.isoformat() if plan.due_on else None,
            "measures": MeasureSerializer(plan.measures, many=True).data,
            "rule_warnings": RuleWarningSerializer(plan.warnings, many=True).data,
            "suggestions": SuggestionSerializer(plan.suggestions, many=True).data,
            "elimination_checklist": CriterionSerializer(plan.checklist, many=True).data,
            "continuing_after_elimination": [m.pk for m in plan.continuing],
        }
