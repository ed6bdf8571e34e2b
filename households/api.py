"""REST endpoints for the registry (issue 2 item 8).

- /api/households/            list (same filters and search as the list page), create
- /api/households/{id}/       read, update (PUT/PATCH); no delete
- /api/members/               list (?household=), create (with a household id)
- /api/members/{id}/          read, update; no delete: a member leaves by status (死亡/迁出)
- /api/income-records/        list (?household=&year=), create
- /api/income-records/{id}/   read, update; totals and per-capita income computed by the server

Every queryset comes from the selectors, so a record outside the user's scope is 404. A
create that names an out-of-scope household is answered exactly like one naming a household
that does not exist (400, "农户 N 不存在。" under `household`), so nothing reveals that it
exists. Writes go through households.services; their Django ValidationError and
PermissionDenied become 400 (keyed by field) and 403 in fanpin.api.exception_handler.
"""

import django_filters
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from . import paging, selectors, services
from .filters import HouseholdFilter, IdFilter, StrictBooleanFilter
from .models import IncomeRecord, Member
from .serializers import (
    HouseholdDetailSerializer,
    HouseholdEntrySerializer,
    HouseholdListSerializer,
    HouseholdWriteSerializer,
    IncomeRecordEntrySerializer,
    IncomeRecordSerializer,
    MemberEntrySerializer,
    MemberListSerializer,
    MemberSerializer,
)


def log_full_view(request, household):
    """DOMAIN.md §9: every response carrying full ID numbers or phones is logged."""
    services.personal_data_viewed(user=request.user, household=household, channel="api")


class UpdateWithoutDeleteMixin(mixins.UpdateModelMixin):
    """PUT and PATCH answer with the saved record and the data-quality findings."""

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        saved = serializer.save()
        return Response(self.entry_response(saved))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = serializer.save()
        return Response(self.entry_response(saved), status=201)


@extend_schema_view(
    list=extend_schema(
        summary="农户列表（已脱敏）", description="与农户列表页相同的筛选与搜索（q）；身份证号与电话均脱敏。"
    ),
    retrieve=extend_schema(summary="农户详情", description="含成员完整身份证号；每次查看都会记录。"),
    create=extend_schema(
        summary="登记农户（可同时登记成员）",
        request=HouseholdWriteSerializer,
        responses={201: HouseholdEntrySerializer},
    ),
    update=extend_schema(
        summary="修改农户", request=HouseholdWriteSerializer, responses={200: HouseholdEntrySerializer}
    ),
    partial_update=extend_schema(
        summary="修改农户（部分字段）", request=HouseholdWriteSerializer, responses={200: HouseholdEntrySerializer}
    ),
)
class HouseholdViewSet(
    UpdateWithoutDeleteMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = HouseholdFilter
    ordering_fields = ["number", "size", "latest_per_capita_income", "updated_at"]
    ordering = list(selectors.HOUSEHOLD_ORDER)
    pagination_class = paging.TwoStepPagination

    def get_queryset(self):
        qs = selectors.households_visible_to(self.request.user, selectors.annotated_households())
        if self.action != "list":
            qs = qs.prefetch_related(
                "members", Prefetch("incomes", queryset=IncomeRecord.objects.order_by("-year", "-month"))
            )
        return qs

    def get_serializer_class(self):
        if self.action == "list":
            return HouseholdListSerializer
        if self.action in ("create", "update", "partial_update"):
            return HouseholdWriteSerializer
        return HouseholdDetailSerializer

    def retrieve(self, request, *args, **kwargs):
        household = self.get_object()
        log_full_view(request, household)
        return Response(HouseholdDetailSerializer(household, context=self.get_serializer_context()).data)

    def entry_response(self, household):
        # Re-read through the scoped, annotated queryset: size, head and special groups are
        # annotations computed by the database.
        fresh = selectors.get_or_404(self.get_queryset(), pk=household.pk)
        log_full_view(self.request, fresh)
        return HouseholdEntrySerializer(fresh, context=self.get_serializer_context()).data


class MemberFilter(django_filters.FilterSet):
    # A plain number, not a choice of households: an out-of-scope id then filters to an
    # empty list instead of answering "invalid choice" and revealing that it exists.
    household = IdFilter(field_name="household_id", label="农户 id")
    status = django_filters.ChoiceFilter(choices=Member.Status.choices, label="人员状态")

    class Meta:
        model = Member
        fields = ["household", "status"]


@extend_schema_view(
    list=extend_schema(summary="成员列表（已脱敏）"),
    retrieve=extend_schema(summary="成员详情", description="含完整身份证号；每次查看都会记录。"),
    create=extend_schema(summary="登记成员", responses={201: MemberEntrySerializer}),
    update=extend_schema(summary="修改成员", responses={200: MemberEntrySerializer}),
    partial_update=extend_schema(summary="修改成员（部分字段）", responses={200: MemberEntrySerializer}),
)
class MemberViewSet(
    UpdateWithoutDeleteMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """No delete: a member who dies or moves away stays on record with that status and is
    no longer counted in the household size."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = MemberFilter

    def get_queryset(self):
        return selectors.members_visible_to(self.request.user).select_related("household__village")

    def get_serializer_class(self):
        return MemberListSerializer if self.action == "list" else MemberSerializer

    def retrieve(self, request, *args, **kwargs):
        member = self.get_object()
        log_full_view(request, member.household)
        return Response(MemberSerializer(member, context=self.get_serializer_context()).data)

    def entry_response(self, member):
        log_full_view(self.request, member.household)
        return MemberEntrySerializer(member, context=self.get_serializer_context()).data


class IncomeRecordFilter(django_filters.FilterSet):
    household = IdFilter(field_name="household_id", label="农户 id")
    year = IdFilter(label="年度")
    annual = StrictBooleanFilter(field_name="month", lookup_expr="isnull", label="仅全年记录")

    class Meta:
        model = IncomeRecord
        fields = ["household", "year", "annual"]


@extend_schema_view(
    list=extend_schema(summary="收入记录列表"),
    retrieve=extend_schema(summary="收入记录详情"),
    create=extend_schema(
        summary="登记收入",
        description="家庭纯收入、家庭人口与人均纯收入由服务器计算；可选 declared_total 必须等于各项之和。",
        responses={201: IncomeRecordEntrySerializer},
    ),
    update=extend_schema(summary="修改收入", responses={200: IncomeRecordEntrySerializer}),
    partial_update=extend_schema(summary="修改收入（部分字段）", responses={200: IncomeRecordEntrySerializer}),
)
class IncomeRecordViewSet(
    UpdateWithoutDeleteMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = IncomeRecordSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = IncomeRecordFilter

    def get_queryset(self):
        return selectors.income_records_visible_to(self.request.user).select_related("household")

    def entry_response(self, record):
        return IncomeRecordEntrySerializer(record, context=self.get_serializer_context()).data


router = DefaultRouter()
router.include_root_view = False
router.register("households", HouseholdViewSet, basename="api-household")
router.register("members", MemberViewSet, basename="api-member")
router.register("income-records", IncomeRecordViewSet, basename="api-income-record")

urlpatterns = router.urls
