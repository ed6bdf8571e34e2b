"""API shapes for the registry. Serializers check the shape of a request and hand the data
to households.services, which owns scope checks, domain validation and the data-quality
findings, exactly as for the pages. Domain validators of the model fields (ID number check
digit, uniqueness) are switched off here on purpose: the service runs them once, after
normalising the ID number, and its messages come back keyed by field name."""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fanpin.api import ReadOnlyBlankChoicesMixin, validation_detail

from . import idnumber, selectors, services
from .models import Area, Household, IncomeRecord, Member, mask_phone

SECURITY_FIELDS = [name for key, _ in Household.SECURITY_ITEMS for name in (f"{key}_secure", f"{key}_note")]


class FindingSerializer(serializers.Serializer):
    """One data-quality finding (households.quality.Finding)."""

    code = serializers.CharField()
    message = serializers.CharField()
    member_id = serializers.IntegerField(allow_null=True)


class ScopedHouseholdField(serializers.PrimaryKeyRelatedField):
    """A household id limited to the requesting user's scope. A household outside the scope
    gets the same answer as one that does not exist, so the API never reveals existence."""

    default_error_messages = {
        "does_not_exist": "农户 {pk_value} 不存在。",
        "incorrect_type": "农户应以编号（整数 id）表示，收到的是 {data_type}。",
    }

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Household.objects.none()
        return selectors.households_visible_to(request.user)


def _raise_as_drf(exc):
    raise serializers.ValidationError(validation_detail(exc)) from None


MEMBER_WRITE_FIELDS = [
    "id_number",
    "name",
    "relation",
    "status",
    "phone",
    "health",
    "disability_category",
    "disability_level",
    "labour_capacity",
    "schooling",
    "work_place",
    "work_months",
    "medical_insurance",
    "pension_insurance",
    "dibao",
    "tekun",
]


class MemberFieldsSerializer(ReadOnlyBlankChoicesMixin, serializers.ModelSerializer):
    """A member's own fields, used nested in a household create and for single members."""

    class Meta:
        model = Member
        fields = ["id", *MEMBER_WRITE_FIELDS, "sex", "birth_date", "updated_at"]
        read_only_fields = ["id", "sex", "birth_date", "updated_at"]
        extra_kwargs = {
            # Lower-case x and full-width digits are accepted and normalised by the service.
            "id_number": {"validators": [], "max_length": 30},
        }
        validators: list[object] = []  # the one-head constraint is checked by the service's full_clean()

    def validate_id_number(self, value):
        # Folded before the model's 18-character limit sees it: "440983 19900506 0778" or
        # full-width digits are one valid number, as on the member form.
        return idnumber.normalize(value)


class MemberListSerializer(ReadOnlyBlankChoicesMixin, serializers.ModelSerializer):
    """A member in a list: masked ID number and phone only (DOMAIN.md §9)."""

    masked_id = serializers.CharField(read_only=True)
    masked_phone = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "id",
            "household",
            "masked_id",
            "name",
            "sex",
            "birth_date",
            "relation",
            "status",
            "masked_phone",
            "health",
            "disability_category",
            "disability_level",
            "labour_capacity",
            "schooling",
            "work_place",
            "work_months",
            "medical_insurance",
            "pension_insurance",
            "dibao",
            "tekun",
            "updated_at",
        ]
        read_only_fields = fields

    def get_masked_phone(self, member) -> str:
        return mask_phone(member.phone)


class MemberSerializer(MemberFieldsSerializer):
    """A single member with the full ID number (every such view is logged)."""

    household = ScopedHouseholdField()
    masked_id = serializers.CharField(read_only=True)

    class Meta(MemberFieldsSerializer.Meta):
        fields = ["id", "household", *MEMBER_WRITE_FIELDS, "masked_id", "sex", "birth_date", "updated_at"]

    def validate(self, attrs):
        if self.instance is not None and "household" in attrs and attrs["household"] != self.instance.household:
            raise serializers.ValidationError(
                {"household": "成员不能直接转到另一户；请在原户将其状态改为迁出，再在新户登记。"}
            )
        return attrs

    def create(self, validated_data):
        household = validated_data.pop("household")
        try:
            return services.member_create(user=self.context["request"].user, household=household, **validated_data)
        except DjangoValidationError as exc:
            _raise_as_drf(exc)

    def update(self, instance, validated_data):
        validated_data.pop("household", None)
        try:
            return services.member_update(user=self.context["request"].user, member=instance, **validated_data)
        except DjangoValidationError as exc:
            _raise_as_drf(exc)


class IncomeRecordSerializer(ReadOnlyBlankChoicesMixin, serializers.ModelSerializer):
    household = ScopedHouseholdField()
    declared_total = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        write_only=True,
        help_text="可选：申报的家庭纯收入。若填写，必须等于各项之和，否则拒绝保存。",
    )
    net_business_income = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    rigid_expenditure = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = IncomeRecord
        fields = [
            "id",
            "household",
            "year",
            "month",
            *services.INCOME_PARTS,
            "note",
            "declared_total",
            "net_business_income",
            "total_net_income",
            "household_size",
            "per_capita_net_income",
            "rigid_expenditure",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "total_net_income",
            "household_size",
            "per_capita_net_income",
            "created_at",
            "updated_at",
        ]
        # Period uniqueness (one annual record per year, one per month) is the service's job.
        validators: list[object] = []

    def validate(self, attrs):
        if self.instance is not None and "household" in attrs and attrs["household"] != self.instance.household:
            raise serializers.ValidationError({"household": "收入记录不能改到另一户。"})
        return attrs

    def create(self, validated_data):
        household = validated_data.pop("household")
        try:
            return services.income_record_save(user=self.context["request"].user, household=household, **validated_data)
        except DjangoValidationError as exc:
            _raise_as_drf(exc)

    def update(self, instance, validated_data):
        validated_data.pop("household", None)
        try:
            return services.income_record_save(
                user=self.context["request"].user,
                household=instance.household,
                record=instance,
                **validated_data,
            )
        except DjangoValidationError as exc:
            _raise_as_drf(exc)


class HouseholdListSerializer(ReadOnlyBlankChoicesMixin, serializers.ModelSerializer):
    """A household in a list. Reads the annotations of selectors.annotate_households and
    village__parent, so a page of any size costs the same number of queries. Never shows a
    full ID number or phone (DOMAIN.md §9)."""

    village_name = serializers.CharField(source="village.name", read_only=True)
    town = serializers.IntegerField(source="village.parent_id", read_only=True)
    town_name = serializers.CharField(source="village.parent.name", read_only=True)
    head_name = serializers.CharField(read_only=True, allow_null=True)
    head_masked_id = serializers.SerializerMethodField()
    masked_phone = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    latest_income_year = serializers.IntegerField(read_only=True, allow_null=True)
    latest_per_capita_income = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    special_groups = serializers.SerializerMethodField()
    all_secure = serializers.BooleanField(read_only=True)

    class Meta:
        model = Household
        fields = [
            "id",
            "number",
            "village",
            "village_name",
            "town",
            "town_name",
            "address",
            "masked_phone",
            "household_type",
            "relocated",
            "head_name",
            "head_masked_id",
            "size",
            "latest_income_year",
            "latest_per_capita_income",
            "special_groups",
            "all_secure",
            *SECURITY_FIELDS,
            "updated_at",
        ]
        read_only_fields = fields

    def get_head_masked_id(self, household) -> str:
        return idnumber.mask(getattr(household, "head_id_number", "") or "")

    def get_special_groups(self, household) -> list[str]:
        return selectors.special_groups_of(household)

    def to_representation(self, instance):
        """The fields above, read directly: DRF's field-by-field walk (a lookup, a None check
        and a conversion for each of 30 fields) was a fifth of an API list page of 50. The same
        keys in the same order and the same values as the walk (tests/households/test_api.py
        compares the two); the detail serializer, with more fields, walks as before."""
        if type(self) is not HouseholdListSerializer:
            return super().to_representation(instance)
        fields = _LIST_CONVERTERS  # not self.fields: building the 30 fields was ~2 ms a request
        village = instance.village
        income = instance.latest_per_capita_income
        phone = instance.masked_phone
        row = {
            "id": instance.pk,
            "number": instance.number,
            "village": instance.village_id,
            "village_name": village.name,
            "town": village.parent_id,
            "town_name": village.parent.name,
            "address": instance.address,
            "masked_phone": None if phone is None else str(phone),
            "household_type": fields["household_type"].to_representation(instance.household_type),
            "relocated": bool(instance.relocated),
            "head_name": instance.head_name,
            "head_masked_id": self.get_head_masked_id(instance),
            "size": instance.size,
            "latest_income_year": instance.latest_income_year,
            "latest_per_capita_income": None
            if income is None
            else fields["latest_per_capita_income"].to_representation(income),
            "special_groups": selectors.special_groups_of(instance),
            "all_secure": instance.all_secure,
        }
        for name in SECURITY_FIELDS:
            value = getattr(instance, name)
            row[name] = bool(value) if name.endswith("_secure") else value
        row["updated_at"] = fields["updated_at"].to_representation(instance.updated_at)
        return row


# The conversions HouseholdListSerializer.to_representation borrows from DRF, as a
# ModelSerializer builds them for those fields (read-only, unbound: they convert, nothing more).
_LIST_CONVERTERS = {
    "household_type": serializers.ChoiceField(choices=Household.Type.choices, read_only=True),
    "latest_per_capita_income": HouseholdListSerializer._declared_fields["latest_per_capita_income"],
    "updated_at": serializers.DateTimeField(read_only=True),
}


class HouseholdDetailSerializer(HouseholdListSerializer):
    """One household with members (full ID numbers: the view logs each such response) and
    its income history."""

    members = serializers.SerializerMethodField()
    incomes = serializers.SerializerMethodField()

    class Meta(HouseholdListSerializer.Meta):
        fields = [
            *HouseholdListSerializer.Meta.fields,
            "phone",
            "bank_name",
            "bank_account",
            "created_at",
            "members",
            "incomes",
        ]
        read_only_fields = fields

    @extend_schema_field(MemberFieldsSerializer(many=True))
    def get_members(self, household):
        return MemberFieldsSerializer(selectors.ordered_members(household), many=True).data

    @extend_schema_field(IncomeRecordSerializer(many=True))
    def get_incomes(self, household):
        return IncomeRecordSerializer(household.incomes.all(), many=True, context=self.context).data


class HouseholdWriteSerializer(serializers.ModelSerializer):
    """Create or correct a household; on create, members may come in the same request and
    are saved all or nothing with it."""

    village = serializers.PrimaryKeyRelatedField(
        queryset=Area.objects.filter(level=Area.Level.VILLAGE),
        # The same answer for a village that does not exist and one outside the caller's scope.
        error_messages={"does_not_exist": services.VILLAGE_NOT_WRITABLE},
    )
    members = MemberFieldsSerializer(many=True, required=False, write_only=True)

    class Meta:
        model = Household
        fields = [*[name for name in services.HOUSEHOLD_FIELDS], "members"]
        extra_kwargs: dict[str, dict[str, object]] = {
            "number": {"validators": []}
        }  # uniqueness: the service's full_clean()

    def validate_members(self, value):
        if self.instance is not None:
            raise serializers.ValidationError("修改农户时不能同时提交成员，请使用 /api/members/ 登记或修改成员。")
        return value

    def create(self, validated_data):
        try:
            return services.household_create(user=self.context["request"].user, **validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(nest_member_errors(validation_detail(exc))) from None

    def update(self, instance, validated_data):
        try:
            return services.household_update(user=self.context["request"].user, household=instance, **validated_data)
        except DjangoValidationError as exc:
            _raise_as_drf(exc)


MEMBER_ERROR_KEY = re.compile(r"^members\[(\d+)\]\.(.+)$")


def nest_member_errors(detail):
    """household_create reports member errors as "members[1].id_number"; answer them the way
    DRF answers a nested list: {"members": [{}, {"id_number": [...]}]}."""
    nested = {}
    flat = {}
    for key, messages in detail.items():
        match = MEMBER_ERROR_KEY.match(key)
        if not match:
            flat[key] = messages
            continue
        index, field = int(match.group(1)), match.group(2)
        field = "non_field_errors" if field == "__all__" else field
        nested.setdefault(index, {})[field] = messages
    if nested:
        flat["members"] = [nested.get(i, {}) for i in range(max(nested) + 1)]
    return flat


def _findings_field():
    return serializers.SerializerMethodField(help_text="保存后发现的数据质量问题（中文说明），请核实。")


class _FindingsMixin:
    @extend_schema_field(FindingSerializer(many=True))
    def get_quality_findings(self, obj):
        household = obj if isinstance(obj, Household) else obj.household
        return FindingSerializer(services.findings_after_entry(household), many=True).data


class HouseholdEntrySerializer(_FindingsMixin, HouseholdDetailSerializer):
    """The answer to a household create or update: the record plus its data-quality findings."""

    quality_findings = _findings_field()

    class Meta(HouseholdDetailSerializer.Meta):
        fields = [*HouseholdDetailSerializer.Meta.fields, "quality_findings"]
        read_only_fields = fields


class MemberEntrySerializer(_FindingsMixin, MemberSerializer):
    quality_findings = _findings_field()

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "quality_findings"]


class IncomeRecordEntrySerializer(_FindingsMixin, IncomeRecordSerializer):
    quality_findings = _findings_field()

    class Meta(IncomeRecordSerializer.Meta):
        fields = [*IncomeRecordSerializer.Meta.fields, "quality_findings"]
