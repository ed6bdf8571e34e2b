"""What the API says of a warning (issue 10 point 6)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import RiskWarning, ScaleAlert, Tier, WarningState
from .rules import RULES_BY_CODE


class WarningSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=WarningState.choices, read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    tier = serializers.ChoiceField(choices=Tier.choices, read_only=True, help_text="red / orange / yellow")
    risk_type_label = serializers.CharField(source="get_risk_type_display", read_only=True)
    rule_label = serializers.SerializerMethodField()
    period = serializers.DateField(format="%Y-%m", read_only=True)
    case = serializers.PrimaryKeyRelatedField(  # type: ignore[var-annotated]
        read_only=True, allow_null=True, help_text="监测对象 id，未纳入时为 null"
    )
    household_number = serializers.CharField(source="household.number", read_only=True, default=None)
    village_name = serializers.CharField(source="village.name", read_only=True, default=None)
    town_name = serializers.CharField(source="town.name", read_only=True, default=None)

    class Meta:
        model = RiskWarning
        fields = [
            "id", "state", "state_label", "tier", "risk_type", "risk_type_label", "rule", "rule_label", "department",
            "period", "figure", "case", "household", "household_number", "village", "village_name", "town",
            "town_name", "raised_on", "reason", "verified_at", "proposed_decision",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_rule_label(self, warning: RiskWarning) -> str:
        rule = RULES_BY_CODE.get(warning.rule)
        return rule.label if rule else warning.rule


class WarningDetailSerializer(WarningSerializer):
    evidence = serializers.JSONField(read_only=True, help_text="证据：每条含规则、数据和原始行")

    class Meta(WarningSerializer.Meta):
        fields = [*WarningSerializer.Meta.fields, "evidence", "id_number", "person_name", "withdrawn_at",
                  "withdrawn_reason"]  # fmt: skip
        read_only_fields = fields


class VerifySerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[("included", "纳入"), ("excluded", "排除")])
    reason = serializers.CharField(allow_blank=True, required=False, default="", help_text="核实情况或排除理由（必填）")


class ScaleAlertSerializer(serializers.ModelSerializer):
    area_name = serializers.CharField(source="area.name", read_only=True)
    area_level = serializers.CharField(source="area.level", read_only=True)
    risk_type_label = serializers.CharField(source="get_risk_type_display", read_only=True)
    period = serializers.DateField(format="%Y-%m", read_only=True)

    class Meta:
        model = ScaleAlert
        fields = ["id", "area", "area_name", "area_level", "risk_type", "risk_type_label", "period", "households",
                  "total_households", "threshold", "raised_at"]  # fmt: skip
        read_only_fields = fields
