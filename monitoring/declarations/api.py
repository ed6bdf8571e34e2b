"""REST endpoints of self-declarations (issue 12 point 5).

Public (no login), with the page's protections (rate limits, honeypot, photos checked by
content):
- POST /api/declarations/                      declare → 201 {reference, state, …}; 400; 429
- GET  /api/declarations/status/?reference=&id_last6=   → 200 {state, closed_reason}; 404 any mismatch
- GET  /api/declarations/areas/                towns and villages for the form
Scoped (the village's queue; out of scope 404):
- GET  /api/declarations/                      one row per person (grouped), ?state=&village=
- GET  /api/declarations/{id}/                 facts, photos, the group, suggested households
- POST /api/declarations/entries/              a cadre's entry (hotline, window, WeChat group),
                                               client_uuid makes an offline sync idempotent
- POST /api/declarations/{id}/link/ | start-case/ | close/   409 when already settled
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from fanpin.schema import VALIDATION_ERRORS
from households import services as household_services

from ..api import form_errors, parse_uuid, plain_data
from ..models import Declaration
from ..serializers import ErrorSerializer
from . import limits, selectors, services
from .forms import CadreDeclarationForm, CloseForm, LinkForm, PublicDeclarationForm, StatusForm
from .serializers import (
    CloseSerializer,
    DeclarationDetailSerializer,
    DeclarationEntrySerializer,
    DeclarationListSerializer,
    DeclarationReceiptSerializer,
    DeclarationStatusSerializer,
    DeclarationSubmitSerializer,
    LinkSerializer,
    TownSerializer,
    receipt,
)

NOT_FOUND_STATUS = "未找到该申报：请核对申报编号和身份证号后 6 位。"
RATE_LIMITED = OpenApiResponse(ErrorSerializer, description="提交或查询太频繁（带 Retry-After 头，单位秒）")
RETRY_AFTER = OpenApiParameter(
    "Retry-After", int, OpenApiParameter.HEADER, response=[429], description="多少秒后可以再试"
)
ERRORS = {
    400: VALIDATION_ERRORS,
    403: OpenApiResponse(ErrorSerializer, description="您的角色不能办理该申报"),
    404: OpenApiResponse(ErrorSerializer, description="不存在或不在您的管辖范围内"),
    409: OpenApiResponse(ErrorSerializer, description="该申报已办理（已启动监测对象申报或已办结），或尚未关联农户"),
}
BODY = {"application/json": DeclarationSubmitSerializer, "multipart/form-data": DeclarationSubmitSerializer}
PUBLIC_ACTIONS = ("create", "status", "areas")


def rate_limited(exc):
    return Response({"detail": exc.message}, status=status.HTTP_429_TOO_MANY_REQUESTS, headers={
        "Retry-After": str(exc.retry_after)
    })  # fmt: skip


def conflict(exc):
    return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)


def _photos(request):
    return request.FILES.getlist("photos")


@extend_schema_view(
    list=extend_schema(
        summary="农户自主申报（待办）",
        description="您管辖范围内的申报，每位申报人一行（同一人办结前的重复申报合并计数，见 duplicate_count）；"
        "默认只列待核实的（state=open），state=all 列全部。身份证号和电话已脱敏。",
        parameters=[
            OpenApiParameter("state", str, enum=["open", "case_started", "closed", "all"], description="办理状态"),
            OpenApiParameter("village", int, description="村 id"),
        ],
    ),
    retrieve=extend_schema(
        summary="申报详情",
        description="申报内容、照片、同一申报人的其他申报、按身份证号建议关联的农户（仅限您的管辖范围）、"
        "办理记录和您现在可执行的操作。",
    ),
)
class DeclarationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filter_backends = []

    def get_permissions(self):
        if self.action in PUBLIC_ACTIONS:
            return [AllowAny()]
        return super().get_permissions()

    def get_queryset(self):
        if self.action == "list":
            state = self.request.query_params.get("state") or Declaration.State.OPEN
            rows = selectors.queue(self.request.user, None if state == "all" else state)
            village = self.request.query_params.get("village")
            if village:
                rows = rows.filter(village_id=village) if village.isdigit() else rows.none()
            return rows.order_by("declared_on", "id")
        return selectors.declarations_visible_to(self.request.user).select_related(*selectors.RELATED)

    def get_serializer_class(self):
        return DeclarationListSerializer if self.action == "list" else DeclarationDetailSerializer

    def retrieve(self, request, *args, **kwargs):
        declaration = selectors.declaration_for(request.user, kwargs["pk"])
        if declaration.household_id:
            # Full ID number and phone on the detail (DOMAIN.md §9: logged).
            household_services.personal_data_viewed(user=request.user, household=declaration.household, channel="api")
        return Response(self._detail(declaration.pk))

    def _detail(self, pk):
        declaration = selectors.declaration_for(self.request.user, pk)
        return DeclarationDetailSerializer(declaration, context=self.get_serializer_context()).data

    @extend_schema(
        summary="农户自主申报（公开，无需登录）",
        description="JSON 或 multipart（带照片时）。成功返回 201 和申报编号、接下来的办理时限。"
        "400：字段错误（中文）；429：同一网络或同一身份证号提交太频繁（Retry-After）。"
        "website 为防机器人字段，必须留空。同一人在申报办结前再次申报会合并办理，不会丢失。",
        request=BODY,
        responses={201: DeclarationReceiptSerializer, 400: VALIDATION_ERRORS, 429: RATE_LIMITED},
        parameters=[RETRY_AFTER],
        auth=[],
    )
    def create(self, request):
        form = PublicDeclarationForm(plain_data(request, PublicDeclarationForm), {"photos": _photos(request)})
        if not form.is_valid():
            raise form_errors(form)
        data = {k: v for k, v in form.cleaned_data.items() if k != "website"}
        try:
            declaration = services.declaration_submit(client=limits.client_address(request), **data)
        except limits.RateLimited as exc:
            return rate_limited(exc)
        return Response(receipt(declaration), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="查询申报进度（公开）",
        description="凭申报编号和身份证号后 6 位查询：返回办理状态，已办结的附原因；不返回任何其他信息。"
        "编号不存在或身份证号不符一律 404（同一答复）；查询太频繁 429。",
        parameters=[
            OpenApiParameter("reference", str, required=True, description="申报编号"),
            OpenApiParameter("id_last6", str, required=True, description="身份证号后 6 位"),
            RETRY_AFTER,
        ],
        responses={200: DeclarationStatusSerializer, 400: VALIDATION_ERRORS, 404: ERRORS[404], 429: RATE_LIMITED},
        auth=[],
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def status(self, request):
        form = StatusForm(request.query_params)
        if not form.is_valid():
            raise form_errors(form)
        try:
            limits.check_and_spend(limits.STATUS_PER_IP, limits.client_address(request))
        except limits.RateLimited as exc:
            return rate_limited(exc)
        found = selectors.status_lookup(form.cleaned_data["reference"], form.cleaned_data["id_last6"])
        if found is None:
            return Response({"detail": NOT_FOUND_STATUS}, status=status.HTTP_404_NOT_FOUND)
        return Response(
            {
                "reference": form.cleaned_data["reference"].strip().upper(),
                "state": found.state,
                "state_label": found.get_state_display(),
                "closed_reason": found.closed_reason if found.state == Declaration.State.CLOSED else "",
            }
        )

    @extend_schema(
        summary="可申报的乡镇和村（公开）",
        description="申报页面选择乡镇和村用：各乡镇及其下属村的 id 和名称。",
        responses={200: TownSerializer(many=True)},
        auth=[],
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def areas(self, request):
        return Response(TownSerializer(selectors.public_areas(), many=True).data)

    @extend_schema(
        summary="干部登记农户申报（热线、窗口、微信群）",
        description="本村、本乡镇或本县干部登记经 12317 热线、服务窗口或村级微信群收到的申报，"
        "注明渠道和日期（不能晚于今天）。同一 client_uuid 重复提交（离线同步）返回第一次的记录（200），不会重复保存。",
        request={"application/json": DeclarationEntrySerializer, "multipart/form-data": DeclarationEntrySerializer},
        responses={201: DeclarationDetailSerializer, 200: DeclarationDetailSerializer, **ERRORS},
    )
    @action(detail=False, methods=["post"])
    def entries(self, request):
        data = plain_data(request, CadreDeclarationForm)
        client_uuid = parse_uuid(data.get("client_uuid"))
        repeated = services.declaration_repeated(user=request.user, client_uuid=client_uuid) if client_uuid else None
        if repeated is not None:
            # A second sync of the same offline entry: the first declaration answers.
            return Response(self._detail(repeated.pk))
        villages = selectors.villages_for_poster(request.user)
        form = CadreDeclarationForm(data, {"photos": _photos(request)}, village_queryset=villages)
        if not form.is_valid():
            raise form_errors(form)
        declaration = services.declaration_record(user=request.user, **form.cleaned_data)
        code = status.HTTP_200_OK if getattr(declaration, "repeated", False) else status.HTTP_201_CREATED
        return Response(self._detail(declaration.pk), status=code)

    @extend_schema(
        summary="关联农户",
        description="把申报（连同同一申报人的重复申报）关联到本村一户（建议见详情的 suggested_households）。"
        "农户不在您的管辖范围：404；不在申报所选的村：400；申报已办理：409。",
        request=LinkSerializer,
        responses={200: DeclarationDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def link(self, request, pk=None):
        selectors.declaration_for(request.user, pk)
        form = LinkForm(plain_data(request, LinkForm))
        if not form.is_valid():
            raise form_errors(form)
        try:
            services.declaration_link(user=request.user, declaration_id=pk, household=form.cleaned_data["household"])
        except services.Conflict as exc:
            return conflict(exc)
        return Response(self._detail(pk))

    @extend_schema(
        summary="据申报启动监测对象申报",
        description="发现渠道为农户自主申报，发现日期为申报日期，申报的困难情况、困难类型和照片带入监测对象记录；"
        "该户已有进行中的记录时并入该记录。须先关联农户。重复提交返回 409，不会产生第二条记录。",
        request=None,
        responses={200: DeclarationDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="start-case")
    def start_case(self, request, pk=None):
        selectors.declaration_for(request.user, pk)
        try:
            services.declaration_start_case(user=request.user, declaration_id=pk)
        except services.Conflict as exc:
            return conflict(exc)
        return Response(self._detail(pk))

    @extend_schema(
        summary="办结申报",
        description="不启动监测对象申报而办结（例如核实后不符合条件），须填写原因；申报人查询进度时可以看到该原因。"
        "已办理的申报返回 409。",
        request=CloseSerializer,
        responses={200: DeclarationDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        selectors.declaration_for(request.user, pk)
        form = CloseForm(plain_data(request, CloseForm))
        if not form.is_valid():
            raise form_errors(form)
        try:
            services.declaration_close(user=request.user, declaration_id=pk, reason=form.cleaned_data["reason"])
        except services.Conflict as exc:
            return conflict(exc)
        return Response(self._detail(pk))


router = DefaultRouter()
router.include_root_view = False
router.register("declarations", DeclarationViewSet, basename="api-declaration")

urlpatterns = [*router.urls]
