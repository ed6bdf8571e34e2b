"""REST endpoints for monitoring cases (issue 3 item 8).

- /api/cases/                               list (the case-list page's filters), report a case (POST)
- /api/cases/{id}/                          detail: state, available transitions, deadline, timeline
- /api/cases/{id}/transitions/{name}/       take a workflow step (POST, JSON or multipart)
- /api/cases/{id}/objections/               objections of the case; record one during a notice
- /api/cases/overdue/                       identification cases past the county's deadline
- /api/objections/{id}/, .../resolve/       an objection; record its outcome
- /api/visits/, /api/visits/{id}/           visits (?household=&case=); record one (offline dedupe)
- /api/visits/overdue/                      monitored cases whose visit is overdue (as on the inbox page)
- /api/inbox/                               cases waiting for the caller's action (我的待办)

A case's state only moves through a transition: there is no PUT, PATCH or DELETE (405).
Everything is scoped by monitoring.selectors / households.selectors, so a case, household,
objection or visit outside the caller's scope is 404, including a report naming an
out-of-scope household. Request bodies are validated by the page's own forms
(monitoring.forms) and written by monitoring.services; status codes:
400 field errors (Chinese), 403 the caller's role may not act at this step, 404 out of scope
or unknown step, 409 not possible in the current state (wrong state, an unmet condition,
a lost race) with {"detail", "reasons", "state", "state_label"}.
"""

import uuid

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import QueryDict
from django.urls import path
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from fanpin.schema import VALIDATION_ERRORS
from households import selectors as household_selectors
from households.filters import IdFilter
from households.models import Household

from . import rejection_pages, selectors, services
from .filters import CaseFilter
from .forms import (
    STEP_FORMS,
    CaseCreateForm,
    HistoricalCaseForm,
    MultipleFileField,
    ObjectionForm,
    ObjectionResolveForm,
    VisitForm,
)
from .models import Objection, Visit
from .serializers import (
    REASON_STEPS,
    TRANSITION_NAMES,
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseListSerializer,
    ConflictSerializer,
    ErrorSerializer,
    HistoricalCaseSerializer,
    ObjectionCreateSerializer,
    ObjectionResolveSerializer,
    ObjectionSerializer,
    OverdueVisitSerializer,
    TransitionRequestSerializer,
    VisitConflictSerializer,
    VisitCreateSerializer,
    VisitSerializer,
    annotate_head,
)

ERRORS = {
    400: VALIDATION_ERRORS,
    403: OpenApiResponse(ErrorSerializer, description="您的角色不能执行此操作"),
    404: OpenApiResponse(ErrorSerializer, description="不存在或不在您的管辖范围内"),
}
CONFLICT = OpenApiResponse(ConflictSerializer, description="当前状态下不能执行（状态不符、条件未满足或已被他人处理）")


def form_errors(form):
    return ValidationError({k: [e["message"] for e in v] for k, v in form.errors.get_json_data().items()})


def plain_data(request, form_class=None):
    """The request's fields without its files, as the QueryDict a Django form reads.

    DRF merges uploaded files into request.data for multipart requests; forms take them
    separately (request.FILES). A JSON body becomes the same QueryDict a form post would:
    a form field would otherwise turn {"comment": {"a": 1}} into the text "{'a': 1}" and a
    list into its last item, so an object, or a list for a field of `form_class` that takes
    one value, is a 400 instead. JSON null means "not sent"."""
    data = request.data
    plain = QueryDict(mutable=True)
    if isinstance(data, QueryDict):
        for key in data:
            if key not in request.FILES:
                plain.setlist(key, data.getlist(key))
        return plain
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["请求内容应为 JSON 对象。"]})
    many = {
        name
        for name, field in (form_class.base_fields.items() if form_class else ())
        if isinstance(field, (forms.MultipleChoiceField, forms.ModelMultipleChoiceField, MultipleFileField))
    }
    read = set(form_class.base_fields) | {"comment", "reason"} if form_class else None
    errors = {}
    for key, value in data.items():
        if read is not None and key not in read and isinstance(value, (dict, list)):
            # A field another step reads (the transition schema is shared by every step, so
            # "secondary_risks": [] fits it for any step): ignored, as the form ignores it.
            continue
        values = value if isinstance(value, list) and (key in many or form_class is None) else [value]
        if any(isinstance(v, (dict, list)) for v in values):
            errors[key] = ["应为由单个值组成的列表。" if key in many else "应为单个值，不能是列表或对象。"]
            continue
        plain.setlist(key, [_form_value(v) for v in values if v is not None])
    if errors:
        raise ValidationError(errors)
    return plain


def _form_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_uuid(value):
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None  # the form reports it


def conflict_response(user, case_id, exc):
    case = selectors.case_for(user, case_id)
    return Response(
        {
            "detail": exc.message,
            "reasons": exc.reasons,
            "state": case.state,
            "state_label": case.get_state_display(),
            # What the caller may still do, e.g. elimination_return when a criterion fails.
            "available_transitions": services.available_transitions(case, user),
        },
        status=status.HTTP_409_CONFLICT,
    )


class CaseListContextMixin:
    def get_serializer_context(self):
        # One settings cache per request: deadlines of any number of cases cost one query per county.
        return {**super().get_serializer_context(), "settings_cache": selectors.SettingsCache()}


@extend_schema_view(
    list=extend_schema(
        summary="监测对象列表",
        description="与监测对象列表页相同的筛选（状态、阶段、类别、风险类型、"
        "乡镇、村、认定超期、发现渠道、户编号或户主姓名搜索 q）；识别阶段的对象附认定时限和剩余天数。",
    ),
    retrieve=extend_schema(
        summary="监测对象详情",
        description="含当前状态、调用者可执行的操作（available_transitions、"
        "actions）、认定时限、异议和完整的操作与走访记录（timeline）。户主身份证号已脱敏。",
    ),
)
class CaseViewSet(CaseListContextMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = CaseFilter
    ordering_fields = ["discovered_on", "household__number", "updated_at", "determined_on"]
    ordering = ["-discovered_on", "-id"]

    def get_queryset(self):
        return annotate_head(selectors.cases_visible_to(self.request.user).select_related(*selectors.LIST_RELATED))

    def get_serializer_class(self):
        return CaseListSerializer if self.action in ("list", "overdue") else CaseDetailSerializer

    def detail_data(self, case_id):
        case = household_selectors.get_or_404(self.get_queryset(), pk=case_id)
        return CaseDetailSerializer(case, context=self.get_serializer_context()).data

    @extend_schema(
        summary="申报监测对象",
        description="村干部申报本村农户。每户同一时间只能有一条进行中的记录（重复申报返回 400）；"
        "不在您管辖范围内的农户按不存在处理（404）。",
        request=CaseCreateSerializer,
        responses={201: CaseDetailSerializer, **ERRORS},
    )
    def create(self, request):
        shape = CaseCreateSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        household = household_selectors.get_or_404(
            household_selectors.households_visible_to(request.user), pk=shape.validated_data["household"]
        )
        form = CaseCreateForm(
            shape.validated_data,
            households=Household.objects.filter(pk=household.pk),
            contacts=selectors.contact_candidates(household.village),
        )
        if not form.is_valid():
            raise form_errors(form)
        case = services.case_create(user=request.user, **form.cleaned_data)
        return Response(self.detail_data(case.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="补录历史监测对象",
        description="系统启用前已认定的监测对象：县乡村振兴局人员按原认定文号补录，直接进入“监测帮扶中”，"
        "风险消除的监测期从原认定日期起算；操作记录为“补录历史监测对象”。普通流程的各步日期不能倒签。"
        "400：数据缺失或不正确；403：不是本县县级人员；404：农户不在管辖范围。",
        request=HistoricalCaseSerializer,
        responses={201: CaseDetailSerializer, **ERRORS},
    )
    @action(detail=False, methods=["post"])
    def historical(self, request):
        shape = HistoricalCaseSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        household = household_selectors.get_or_404(
            household_selectors.households_visible_to(request.user), pk=shape.validated_data["household"]
        )
        form = HistoricalCaseForm(
            plain_data(request, HistoricalCaseForm), households=Household.objects.filter(pk=household.pk)
        )
        if not form.is_valid():
            raise form_errors(form)
        contact = shape.validated_data.get("contact_person")
        contact_user = None
        if contact is not None:
            contact_user = selectors.contact_candidates(household.village).filter(pk=contact).first()
            if contact_user is None:
                raise ValidationError(
                    {"contact_person": "帮扶联系人须是本村、本乡镇或本县的干部，或未绑定其他地区的帮扶人员。"}
                )
        case = services.case_import_historical(user=request.user, contact_person=contact_user, **form.cleaned_data)
        return Response(self.detail_data(case.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="执行流程操作",
        description=(
            "按操作名称执行一步流程，请求体为该步骤的数据（JSON，或带附件时用 multipart/form-data），"
            "与页面表单相同（monitoring.forms.STEP_FORMS）。成功返回 200 和新的状态及详情。"
            "不予纳入、撤回、自然减少和各类退回（" + "、".join(REASON_STEPS) + "）必须填写原因：字段 comment，"
            "也可用 reason 作为别名。400：数据缺失或不正确；403：您的角色不能执行；404：不在管辖范围或没有该操作；"
            "409：当前状态下不能执行（状态不符、条件未满足、已被他人处理），返回原因和当前状态。"
        ),
        parameters=[
            OpenApiParameter(
                "name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=TRANSITION_NAMES, description="操作名称"
            )
        ],
        request={"application/json": TransitionRequestSerializer, "multipart/form-data": TransitionRequestSerializer},
        responses={200: CaseDetailSerializer, **ERRORS, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<name>[^/.]+)")
    def transition(self, request, pk=None, name=None):
        if name not in TRANSITION_NAMES:
            raise NotFound(f"没有名为 {name} 的操作。")
        data = plain_data(request, STEP_FORMS[name])
        if name in REASON_STEPS and not data.get("comment") and data.get("reason"):
            data["comment"] = data["reason"]
        try:
            services.case_transition(user=request.user, case_id=pk, name=name, data=data, files=request.FILES)
        except services.Conflict as exc:
            return conflict_response(request.user, pk, exc)
        return Response(self.detail_data(pk))

    @extend_schema(
        methods=["GET"],
        summary="异议列表",
        filters=False,
        responses={200: ObjectionSerializer(many=True), 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="登记异议",
        description="公示期间（纳入公示或风险消除公示）由本村村干部或乡镇干部登记；公示期外返回 409。",
        request=ObjectionCreateSerializer,
        responses={201: ObjectionSerializer, **ERRORS, 409: CONFLICT},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def objections(self, request, pk=None):
        case = selectors.case_for(request.user, pk)
        if request.method == "GET":
            found = case.objections.select_related("case", "recorded_by", "resolved_by")
            return Response(ObjectionSerializer(found, many=True).data)
        data = plain_data(request, ObjectionForm)
        data.setdefault("raised_on", timezone.localdate().isoformat())
        form = ObjectionForm(data)
        if not form.is_valid():
            raise form_errors(form)
        try:
            objection = services.objection_record(user=request.user, case_id=case.pk, **form.cleaned_data)
        except services.Conflict as exc:
            return conflict_response(request.user, case.pk, exc)
        return Response(ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="认定超期的监测对象",
        description="识别阶段中，发现至县级认定已超过本县时限的对象；可用与列表相同的筛选。",
        filters=True,
        responses=CaseListSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def overdue(self, request):
        queryset = self.filter_queryset(self.get_queryset()).filter(selectors.overdue_q())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema_view(retrieve=extend_schema(summary="异议详情"))
class ObjectionViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ObjectionSerializer

    def get_queryset(self):
        return Objection.objects.filter(case__in=selectors.cases_visible_to(self.request.user)).select_related(
            "case", "recorded_by", "resolved_by"
        )

    @extend_schema(
        summary="处理异议",
        description="异议成立（upheld=true）时，纳入公示中的对象退回村级重新核实，风险消除公示中的对象退回继续监测。"
        "已处理过的异议返回 409。",
        request=ObjectionResolveSerializer,
        responses={200: ObjectionSerializer, **ERRORS, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        objection = self.get_object()
        shape = ObjectionResolveSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        form = ObjectionResolveForm(
            {"upheld": "1" if shape.validated_data["upheld"] else "0", "resolution": shape.validated_data["resolution"]}
        )
        if not form.is_valid():
            raise form_errors(form)
        try:
            services.objection_resolve(user=request.user, objection_id=objection.pk, **form.cleaned_data)
        except services.Conflict as exc:
            return conflict_response(request.user, objection.case_id, exc)
        return Response(ObjectionSerializer(self.get_queryset().get(pk=objection.pk)).data)


class VisitFilter(django_filters.FilterSet):
    # Plain numbers, not choices: an out-of-scope id filters to an empty list instead of
    # answering "invalid choice" and revealing that it exists.
    household = IdFilter(field_name="household_id", label="农户 id")
    case = IdFilter(field_name="case_id", label="监测对象 id")

    class Meta:
        model = Visit
        fields = ["household", "case"]


@extend_schema_view(
    list=extend_schema(summary="走访记录列表"),
    retrieve=extend_schema(summary="走访记录详情"),
)
class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = VisitSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = VisitFilter

    def get_queryset(self):
        scope = household_selectors.area_scope_q(self.request.user, field="household__village")
        visible = Visit.objects.filter(scope) if self.request.user.is_authenticated else Visit.objects.none()
        return visible.select_related("household", "recorded_by").prefetch_related("photos")

    @extend_schema(
        summary="走访超期的监测对象",
        description="监测帮扶中、超过本县走访间隔（按上次走访或认定之日有效的设置）未走访的对象，"
        "最久未走访的在前；与“我的待办”页面所列相同，范围同监测对象列表。",
        filters=False,
        responses=OverdueVisitSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[])
    def overdue(self, request):
        cases = annotate_head(selectors.overdue_visits(request.user)).order_by(
            F("visit_since").asc(nulls_first=True), "household__number"
        )
        page = self.paginate_queryset(cases)
        context = {**self.get_serializer_context(), "settings_cache": selectors.SettingsCache()}
        return self.get_paginated_response(OverdueVisitSerializer(page, many=True, context=context).data)

    @extend_schema(
        summary="录入走访记录",
        description="未提交的“两不愁三保障”及饮水项沿用该户上次的状态，只需提交变化；照片和位置可选。"
        "同一 client_uuid 重复提交（离线同步）返回第一次的记录（200），不会重复保存。带上走访表的 household_version 时，该户在表打开后被他人修改、且本次记录会改掉那些修改的，答复 409 和冲突项目，由干部决定。"
        "open_case=true 时据此申报监测对象。",
        request={"application/json": VisitCreateSerializer, "multipart/form-data": VisitCreateSerializer},
        responses={
            201: VisitSerializer,
            200: VisitSerializer,
            **ERRORS,
            409: OpenApiResponse(VisitConflictSerializer, description="该户在走访表打开后被他人修改，与本次记录冲突"),
        },
    )
    def create(self, request):
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["请求内容应为 JSON 对象。"]})
        if request.data.get("household") in (None, ""):
            raise ValidationError({"household": ["请选择农户。"]})
        # The shape first (an id that is a whole number, true/false, a UUID, a location on
        # Earth): the form alone would read "maybe" as a checked box and 1.5 as household 1.
        VisitCreateSerializer(data=request.data).is_valid(raise_exception=True)
        data = plain_data(request, VisitForm)
        household = household_selectors.get_or_404(
            household_selectors.households_visible_to(request.user), pk=data["household"]
        )
        client_uuid = parse_uuid(data.get("client_uuid"))
        if client_uuid and Visit.objects.filter(client_uuid=client_uuid, household=household).exists():
            # A second sync of the same offline entry: the service answers with the first visit
            # (after its scope and role checks) instead of the form calling the uuid a duplicate.
            visit = services.visit_create(user=request.user, household=household, client_uuid=client_uuid)
            return Response(self.get_serializer(self.get_queryset().get(pk=visit.pk)).data)
        data.setdefault("visited_on", timezone.localdate().isoformat())
        for key, _ in Household.SECURITY_ITEMS:
            # Left out means unchanged since the last visit, not "problem" (a checkbox's absence).
            data.setdefault(f"{key}_secure", "true" if getattr(household, f"{key}_secure") else "false")
        form = VisitForm(data, request.FILES, household=household)
        if not form.is_valid():
            raise form_errors(form)
        try:
            visit = services.visit_create(user=request.user, household=household, **form.cleaned_data)
        except services.HouseholdChanged as exc:
            body = {"detail": exc.message, "conflicts": exc.conflicts, "household_version": exc.version}
            return Response(body, status=status.HTTP_409_CONFLICT)
        # A simultaneous twin got there first: the documented answer to a repeat is 200.
        code = status.HTTP_200_OK if getattr(visit, "repeated", False) else status.HTTP_201_CREATED
        return Response(self.get_serializer(self.get_queryset().get(pk=visit.pk)).data, status=code)


@extend_schema(summary="我的待办", description="等待调用者处理的监测对象（按发现日期从早到晚），附认定时限和剩余天数。")
class InboxView(CaseListContextMixin, generics.ListAPIView):
    serializer_class = CaseListSerializer
    filter_backends = []

    def get_queryset(self):
        return annotate_head(selectors.inbox(self.request.user))


router = DefaultRouter()
router.include_root_view = False
router.register("cases", CaseViewSet, basename="api-case")
router.register("objections", ObjectionViewSet, basename="api-objection")
router.register("visits", VisitViewSet, basename="api-visit")

urlpatterns = [
    *router.urls,
    path("inbox/", InboxView.as_view(), name="api-inbox"),
    *rejection_pages.api_urls,
]
