"""Shapes of the declaration API (issue 12 point 5)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from households.idnumber import mask
from households.models import Area, mask_phone

from ..models import Declaration, DeclarationEvent, RiskType
from ..serializers import person_name
from . import selectors


class DeclarationSubmitSerializer(serializers.Serializer):
    village = serializers.IntegerField(help_text="村的 id（见 GET /api/declarations/areas/）")
    name = serializers.CharField(max_length=50, help_text="申报人姓名")
    id_number = serializers.CharField(max_length=30, help_text="申报人身份证号（18 位，校验位按 GB 11643）")
    phone = serializers.CharField(max_length=30, help_text="手机号或座机号")
    situation = serializers.CharField(max_length=2000, help_text="家庭困难情况")
    risk_types = serializers.ListField(
        child=serializers.ChoiceField(choices=RiskType.choices), required=False, help_text="困难类型（风险类型代码）"
    )
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="照片（multipart，可选，最多 4 张；只收图片，按内容检查）",
    )
    website = serializers.CharField(required=False, allow_blank=True, help_text="防机器人字段，必须留空")


class DeclarationEntrySerializer(DeclarationSubmitSerializer):
    source = serializers.ChoiceField(  # type: ignore[assignment]  # a field named like Field.source
        choices=[c for c in Declaration.Source.choices if c[0] != Declaration.Source.ONLINE],
        help_text="收到申报的渠道：12317 热线、服务窗口、村级微信群",
    )
    declared_on = serializers.DateField(help_text="收到申报的日期（不能晚于今天）")
    client_uuid = serializers.UUIDField(required=False, help_text="离线录入的标识：同一标识重复同步只保存一次")


class DeclarationReceiptSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text="申报编号，查询进度时使用")
    state = serializers.ChoiceField(choices=Declaration.State.choices)
    state_label = serializers.CharField()
    declared_on = serializers.DateField()
    village_name = serializers.CharField()
    contact_by = serializers.DateField(help_text="村干部联系或入户核实的最晚日期")
    determined_by = serializers.DateField(help_text="符合条件的，县级完成认定的最晚日期（本县设置）")
    next_steps = serializers.CharField(help_text="接下来会发生什么（中文）")


def receipt(declaration):
    step = selectors.next_step(declaration)
    return {
        "reference": declaration.reference,
        "state": declaration.state,
        "state_label": declaration.get_state_display(),
        "declared_on": declaration.declared_on,
        "village_name": declaration.village.name,
        "contact_by": step.visit_by,
        "determined_by": step.determined_by,
        "next_steps": next_steps_text(declaration, step),
    }


def next_steps_text(declaration, step):
    return (
        f"{declaration.village.name}的村干部会在 {step.visit_by:%Y年%m月%d日} 前打电话或上门了解情况；"
        f"符合条件的，按程序评议、公示，县里在 {step.determined_by:%Y年%m月%d日} 前完成认定。"
        "办理结果可凭申报编号和身份证号后 6 位查询。"
    )


class DeclarationStatusSerializer(serializers.Serializer):
    reference = serializers.CharField()
    state = serializers.ChoiceField(choices=Declaration.State.choices)
    state_label = serializers.CharField()
    closed_reason = serializers.CharField(allow_blank=True, help_text="办结原因（已办结时）")


class VillageNameSerializer(serializers.ModelSerializer):
    class Meta:
        model = Area
        fields = ["id", "name"]


class TownSerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="parent.name", read_only=True)
    villages = serializers.SerializerMethodField()

    class Meta:
        model = Area
        fields = ["id", "name", "county", "villages"]

    @extend_schema_field(VillageNameSerializer(many=True))
    def get_villages(self, town):
        villages = sorted((c for c in town.children.all() if c.level == Area.Level.VILLAGE), key=lambda v: v.path)
        return VillageNameSerializer(villages, many=True).data


class DeclarationListSerializer(serializers.ModelSerializer):
    village_name = serializers.CharField(source="village.name", read_only=True)
    town_name = serializers.CharField(source="village.parent.name", read_only=True)
    source_label = serializers.CharField(source="get_source_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    id_number_masked = serializers.SerializerMethodField()
    phone_masked = serializers.SerializerMethodField()
    risk_types = serializers.ListField(child=serializers.ChoiceField(choices=RiskType.choices), read_only=True)
    duplicate_count = serializers.SerializerMethodField(help_text="同一申报人在本申报办结前又提交的次数（不重复计数）")

    class Meta:
        model = Declaration
        fields = [
            "id",
            "reference",
            "village",
            "village_name",
            "town_name",
            "source",
            "source_label",
            "declared_on",
            "name",
            "id_number_masked",
            "phone_masked",
            "risk_types",
            "state",
            "state_label",
            "household",
            "case",
            "duplicate_of",
            "duplicate_count",
        ]
        read_only_fields = fields

    def get_id_number_masked(self, obj) -> str:
        return mask(obj.id_number)

    def get_phone_masked(self, obj) -> str:
        return mask_phone(obj.phone)

    def get_duplicate_count(self, obj) -> int:
        count = getattr(obj, "duplicate_count", None)
        return obj.duplicates.count() if count is None else count


class PhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()


class SuggestedHouseholdSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="户编号")
    village_name = serializers.CharField()


class DeclarationEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = DeclarationEvent
        fields = ["action", "label", "actor_name", "at", "comment"]

    def get_actor_name(self, obj) -> str:
        return person_name(obj.actor) if obj.actor else "申报人本人"


class DuplicateSerializer(serializers.ModelSerializer):
    source_label = serializers.CharField(source="get_source_display", read_only=True)

    class Meta:
        model = Declaration
        fields = ["id", "reference", "declared_on", "source", "source_label", "situation", "risk_types"]


class DeclarationDetailSerializer(DeclarationListSerializer):
    photos = serializers.SerializerMethodField()
    duplicates = serializers.SerializerMethodField()
    suggested_households = serializers.SerializerMethodField(help_text="本人身份证号登记在您管辖范围内的农户")
    events = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField(help_text="调用者现在可以执行的操作：link、start_case、close")
    client_uuid = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta(DeclarationListSerializer.Meta):
        fields = [
            *DeclarationListSerializer.Meta.fields,
            "id_number",
            "phone",
            "situation",
            "closed_reason",
            "closed_on",
            "client_uuid",
            "photos",
            "duplicates",
            "suggested_households",
            "events",
            "available_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(PhotoSerializer(many=True))
    def get_photos(self, obj):
        rows = [p for d in selectors.group_of(obj) for p in d.photos.all()]
        return [{"id": p.pk, "url": reverse("declarations:photo", args=[p.declaration_id, p.pk])} for p in rows]

    @extend_schema_field(DuplicateSerializer(many=True))
    def get_duplicates(self, obj):
        return DuplicateSerializer([d for d in selectors.group_of(obj) if d.pk != obj.pk], many=True).data

    @extend_schema_field(SuggestedHouseholdSerializer(many=True))
    def get_suggested_households(self, obj):
        user = self.context["request"].user
        return [
            {"id": h.pk, "number": h.number, "village_name": h.village.name}
            for h in selectors.suggested_households(user, obj)
        ]

    @extend_schema_field(DeclarationEventSerializer(many=True))
    def get_events(self, obj):
        first_id = obj.duplicate_of_id or obj.pk
        events = DeclarationEvent.objects.filter(declaration_id=first_id).select_related("actor")
        return DeclarationEventSerializer(events, many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_actions(self, obj):
        return selectors.available_actions(self.context["request"].user, obj)


class LinkSerializer(serializers.Serializer):
    household = serializers.IntegerField(help_text="农户 id（本村、您管辖范围内）")


class CloseSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="办结原因，申报人查询时可以看到")
