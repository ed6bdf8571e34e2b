"""API shapes of screening uploads (counts and bad rows; never household details)."""

from typing import Any

from rest_framework import serializers

from households import idnumber
from households.models import Department

from .models import ScreeningBadRow, ScreeningRow, ScreeningUpload

BAD_ROWS_SHOWN = 1000


class BadRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScreeningBadRow
        fields = ["row", "column", "reason"]


class UploadSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.kind", help_text="部门类别（Department.Kind）")
    department_name = serializers.CharField(source="department.name")
    county = serializers.CharField(source="department.county.name")
    period = serializers.SerializerMethodField(help_text="数据月份 YYYY-MM")
    status_label = serializers.CharField(source="get_status_display")
    uploaded_by = serializers.SerializerMethodField()
    bad_rows_url = serializers.SerializerMethodField()

    class Meta:
        model = ScreeningUpload
        fields = [
            "id",
            "department",
            "department_name",
            "county",
            "period",
            "original_name",
            "uploaded_by",
            "status",
            "status_label",
            "is_current",
            "progress",
            "rows_read",
            "rows_valid",
            "rows_invalid",
            "rows_matched",
            "rows_unmatched",
            "rows_skipped",
            "error_message",
            "notices",
            "created_at",
            "finished_at",
            "bad_rows_url",
        ]
        read_only_fields = fields

    def get_period(self, upload: ScreeningUpload) -> str:
        return upload.period_label

    def get_uploaded_by(self, upload: ScreeningUpload) -> str:
        return upload.uploaded_by.username if upload.uploaded_by is not None else ""

    def get_bad_rows_url(self, upload: ScreeningUpload) -> str:
        return f"/api/screening/uploads/{upload.pk}/bad-rows/"


class UploadDetailSerializer(UploadSerializer):
    bad_rows = serializers.SerializerMethodField(help_text=f"错误行（行号、列、原因），最多 {BAD_ROWS_SHOWN} 条")
    bad_rows_total = serializers.SerializerMethodField()

    class Meta(UploadSerializer.Meta):
        fields = [*UploadSerializer.Meta.fields, "bad_rows", "bad_rows_total"]
        read_only_fields = fields

    def get_bad_rows(self, upload: ScreeningUpload) -> list[dict[str, Any]]:
        rows = upload.bad_rows.order_by("row", "pk")[:BAD_ROWS_SHOWN]
        return list(BadRowSerializer(rows, many=True).data)

    def get_bad_rows_total(self, upload: ScreeningUpload) -> int:
        return upload.bad_rows.count()


class UploadCreateSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True, help_text=".xlsx、.xls、.csv（UTF-8 或 GBK）或制表符分隔的 .txt"
    )
    period = serializers.CharField(help_text="数据月份 YYYY-MM")
    department = serializers.ChoiceField(
        choices=Department.Kind.choices, required=False, help_text="部门类别；县乡村振兴局和管理员必填"
    )
    county = serializers.CharField(required=False, help_text="县名或代码（仅系统管理员、多县部署时）")


class RowOutcomeSerializer(serializers.ModelSerializer):
    """One row as its department may see it: its line, the masked ID number it sent, matched or not."""

    id_number = serializers.SerializerMethodField()
    matched = serializers.BooleanField()

    class Meta:
        model = ScreeningRow
        fields = ["row_number", "id_number", "name", "matched"]
        read_only_fields = fields

    def get_id_number(self, row: ScreeningRow) -> str:
        return idnumber.mask(row.id_number)
