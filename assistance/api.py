"""REST endpoints for plans (一户一策) and measures (issue 8 item 7).

- GET  /api/measure-types/                the catalogue (code, label, kind, risk_types)
- GET  /api/cases/{id}/plan/              measures, rule_warnings, suggestions, elimination_checklist
- GET  /api/cases/{id}/measures/          the case's measures with their progress notes
- POST /api/cases/{id}/measures/          add a measure (409 when the case is not monitored)
- GET  /api/measures/{id}/                one measure
- PATCH /api/measures/{id}/               change it (only the fields sent); no PUT, no DELETE (405)
- POST /api/measures/{id}/progress/       a progress note, optionally a new status
- GET  /api/plans/overdue/                monitored cases whose plan is past its due date

Scoped like cases: a case or measure outside the caller's scope is 404. Request bodies are
validated by the page's forms and written by assistance.services. 400 field errors (Chinese),
403 the caller takes no part in this plan, 409 the case's state does not allow it (or a double
submit), with {"detail", "reasons", "state", "state_label"}.
"""

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring import selectors as monitoring_selectors
from monitoring.api import form_errors, plain_data
from monitoring.serializers import CaseListSerializer, ConflictSerializer, ErrorSerializer, annotate_head
from monitoring.services import Conflict

from . import selectors, services
from .forms import MeasureCreateForm, MeasureUpdateForm, ProgressForm
from .models import Measure
from .serializers import (
    MeasureCreateSerializer,
    MeasureSerializer,
    MeasureTypeSerializer,
    MeasureUpdateSerializer,
    PlanSerializer,
    ProgressCreateSerializer,
    ProgressSerializer,
)

NOT_FOUND = OpenApiResponse(ErrorSerializer, description="不存在或不在您的管辖范围内")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="您不参与该户的帮扶")
CONFLICT = OpenApiResponse(ConflictSerializer, description="监测对象当前状态下不能办理，或重复提交")


def conflict_response(case, exc):
    return Response(
        {"detail": exc.message, "reasons": exc.reasons, "state": case.state, "state_label": case.get_state_display()},
        status=status.HTTP_409_CONFLICT,
    )


def measure_data(measure_id):
    return MeasureSerializer(selectors.with_progress(Measure.objects.filter(pk=measure_id)).get()).data


class MeasureTypeList(ListAPIView):
    serializer_class = MeasureTypeSerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(
        summary="帮扶措施目录",
        description="县里在管理后台维护的措施类型：代码、名称、类别（developmental 开发式、"
        "social_security 社会保障、other 其他）和针对的风险类型。停用的类型不能新增措施（active=false）。",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.measure_types()


class CasePlan(APIView):
    @extend_schema(
        summary="一户一策：帮扶计划",
        description="该户的帮扶措施（含进展记录）、政策提示（rule_warnings：code 和中文 message）、"
        "按风险类型和劳动能力推荐的措施（suggestions，prefill 可直接用于添加）、风险消除条件（每项 code、label、met、figure）。",
        responses={200: PlanSerializer, 404: NOT_FOUND},
    )
    def get(self, request, pk):
        case = monitoring_selectors.case_for(request.user, pk)
        return Response(PlanSerializer(selectors.plan_for(case)).data)


class CaseMeasures(APIView):
    @extend_schema(
        summary="该户的帮扶措施",
        responses={200: MeasureSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request, pk):
        case = monitoring_selectors.case_for(request.user, pk)
        measures = selectors.with_progress(Measure.objects.filter(case=case))
        return Response(MeasureSerializer(measures, many=True).data)

    @extend_schema(
        summary="添加帮扶措施",
        description="只有监测帮扶中（或风险消除办理中）的对象可以添加（否则 409，附原因）。由该户的帮扶联系人"
        "或本村、本乡镇、本县的干部添加；帮扶责任人须在该户帮扶联系人的范围内。同一类型、同一开始日期的措施"
        "不能重复添加（409）。",
        request=MeasureCreateSerializer,
        responses={201: MeasureSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request, pk):
        case = monitoring_selectors.case_for(request.user, pk)
        MeasureCreateSerializer(data=request.data).is_valid(raise_exception=True)
        data = plain_data(request, MeasureCreateForm)
        data.setdefault("starts_on", timezone.localdate().isoformat())
        form = MeasureCreateForm(data, case=case)
        if not form.is_valid():
            raise form_errors(form)
        try:
            measure = services.measure_create(user=request.user, case_id=case.pk, data=form.cleaned_data)
        except Conflict as exc:
            return conflict_response(monitoring_selectors.case_for(request.user, pk), exc)
        return Response(measure_data(measure.pk), status=status.HTTP_201_CREATED)


class MeasureDetail(APIView):
    @extend_schema(summary="帮扶措施详情", responses={200: MeasureSerializer, 404: NOT_FOUND})
    def get(self, request, pk):
        return Response(MeasureSerializer(selectors.measure_for(request.user, pk)).data)

    @extend_schema(
        summary="修改帮扶措施",
        description="只修改请求中给出的字段，每项修改记录原值和新值。措施类型不能修改：类型有误的措施请终止"
        "（status=stopped，note 填写原因）后重新添加。措施不能删除（DELETE 返回 405）。",
        request=MeasureUpdateSerializer,
        responses={200: MeasureSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def patch(self, request, pk):
        measure = selectors.measure_for(request.user, pk)
        MeasureUpdateSerializer(data=request.data).is_valid(raise_exception=True)
        data = plain_data(request, MeasureUpdateForm)
        form = MeasureUpdateForm(data, case=measure.case, partial=True)
        if not form.is_valid():
            raise form_errors(form)
        changes = form.changed_facts()
        if "measure_type" in data:
            changes["measure_type"] = data["measure_type"]
        try:
            services.measure_update(
                user=request.user,
                measure_id=measure.pk,
                changes=changes,
                status=form.cleaned_data.get("status") or "",
                note=form.cleaned_data.get("note") or "",
            )
        except Conflict as exc:
            return conflict_response(measure.case, exc)
        return Response(measure_data(measure.pk))


class MeasureProgressCreate(APIView):
    @extend_schema(
        summary="记录措施进展",
        description="记录一条进展（记录人和时间由服务器记录），可同时改变状态：planned → in_progress → done；"
        "stopped 以 note 为终止原因。已完成或已终止的措施不能再改状态（409）；同一进展重复提交返回 409。",
        request=ProgressCreateSerializer,
        responses={201: ProgressSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    def post(self, request, pk):
        measure = selectors.measure_for(request.user, pk)
        ProgressCreateSerializer(data=request.data).is_valid(raise_exception=True)
        form = ProgressForm(plain_data(request, ProgressForm))
        if not form.is_valid():
            raise form_errors(form)
        try:
            entry = services.measure_progress(
                user=request.user,
                measure_id=measure.pk,
                note=form.cleaned_data["note"],
                status=form.cleaned_data.get("status") or "",
            )
        except Conflict as exc:
            return conflict_response(measure.case, exc)
        return Response(ProgressSerializer(entry).data, status=status.HTTP_201_CREATED)


class OverduePlans(ListAPIView):
    serializer_class = CaseListSerializer
    filter_backends = []

    @extend_schema(
        summary="帮扶计划超期的监测对象",
        description="已认定超过本县时限（默认 15 天）仍没有帮扶措施的监测对象。",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return annotate_head(selectors.overdue_plans(self.request.user))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "settings_cache": monitoring_selectors.SettingsCache()}


urlpatterns = [
    path("measure-types/", MeasureTypeList.as_view(), name="api-measure-types"),
    path("cases/<int:pk>/plan/", CasePlan.as_view(), name="api-case-plan"),
    path("cases/<int:pk>/measures/", CaseMeasures.as_view(), name="api-case-measures"),
    path("measures/<int:pk>/", MeasureDetail.as_view(), name="api-measure-detail"),
    path("measures/<int:pk>/progress/", MeasureProgressCreate.as_view(), name="api-measure-progress"),
    path("plans/overdue/", OverduePlans.as_view(), name="api-plans-overdue"),
]
