"""REST API of warnings and scale alerts (issue 10 point 6). Thin: writes are warning_services."""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from fanpin.schema import VALIDATION_ERRORS

from . import warning_selectors as selectors
from . import warning_services as services
from .asset_views import api_urlpatterns as asset_api_urlpatterns
from .models import RiskWarning
from .warning_filters import WarningFilter
from .warning_serializers import ScaleAlertSerializer, VerifySerializer, WarningDetailSerializer, WarningSerializer

CONFLICT = OpenApiResponse(description="该预警已核实，不能重复提交")


class WarningList(generics.ListAPIView):
    """Warnings the user may see, red first, then the oldest."""

    serializer_class = WarningSerializer
    filterset_class = WarningFilter
    search_fields: list[str] = []
    ordering_fields: list[str] = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is built without a database
            return RiskWarning.objects.none()
        return selectors.inbox(self.request.user)


class WarningDetail(generics.RetrieveAPIView):
    """A warning with its figure and evidence."""

    serializer_class = WarningDetailSerializer

    def get_object(self):
        return selectors.warning_for(self.request.user, self.kwargs["pk"])


class WarningVerify(generics.GenericAPIView):
    serializer_class = VerifySerializer

    @extend_schema(
        request=VerifySerializer,
        responses={200: WarningDetailSerializer, 400: VALIDATION_ERRORS, 409: CONFLICT},
        description=(
            "核实预警：included 纳入（无进行中监测记录的农户新建监测对象，渠道为部门筛查预警或平台预警；"
            "已有进行中记录的附在该记录上），excluded 排除；reason 必填。已核实的返回 409，无权查看的返回 404。"
        ),
    )
    def post(self, request, pk):
        # Scope first: a warning outside it is 404 whatever the body (issue 14 route matrix found
        # a 400 here, which told an outsider the warning exists).
        selectors.warning_for(request.user, pk)
        incoming = VerifySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.warning_verify(
                user=request.user, warning_id=pk, decision=incoming.validated_data["decision"],
                reason=incoming.validated_data["reason"],
            )  # fmt: skip
        except services.Conflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(WarningDetailSerializer(selectors.warning_for(request.user, pk)).data)


class AlertList(generics.ListAPIView):
    """规模性返贫风险预警 (county officers): one per area, risk type and period."""

    serializer_class = ScaleAlertSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.alerts_visible_to(self.request.user)


urlpatterns = [
    path("warnings/", WarningList.as_view(), name="warnings"),
    path("warnings/<int:pk>/", WarningDetail.as_view(), name="warning"),
    path("warnings/<int:pk>/verify/", WarningVerify.as_view(), name="warning-verify"),
    path("screening/alerts/", AlertList.as_view(), name="screening-alerts"),
    *asset_api_urlpatterns,
]
