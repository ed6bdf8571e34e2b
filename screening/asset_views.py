"""The asset cross-check (信息比对) on monitoring's pages and in the API (issue 10 point 9).

- `case_section` (settings.FANPIN_CASE_PAGE_SECTIONS): the findings on the case with their
  evidence, the lists received, the comparison recorded (history kept) and, for the county
  officer, the form that records it.
- `inbox_section` (settings.FANPIN_INBOX_SECTIONS): the cases at county review whose comparison
  is not recorded yet.
- `GET /api/cases/{id}/asset-findings/` and `POST /api/cases/{id}/asset-comparison/`.
The work is in screening.asset_services.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from fanpin.schema import VALIDATION_ERRORS
from households import selectors as household_selectors
from households.models import Role
from monitoring.models import IDENTIFICATION_STATES
from monitoring.selectors import Panel, inbox_counts, inbox_panel_rows

from . import asset_selectors as selectors
from . import asset_services as services
from .models import AssetComparison

INBOX_SHOWN = 10


def _context(request, case):
    county = selectors.case_county(case)
    # The lists in force are shown under identification only (past it, the recorded history).
    findings, lists = selectors.findings_and_lists(case) if case.state in IDENTIFICATION_STATES else ([], [])
    history = selectors.comparisons(case)
    problems = selectors.determination_problems(case)
    return {
        "case": case,
        "findings": findings,
        "lists": lists,
        "history": history,
        "comparison": history[0] if history else None,
        "problems": problems,
        "may_record": case.state in IDENTIFICATION_STATES and services.may_record(request.user, county.path),
        "results": AssetComparison.Result.choices,
    }


def case_section(request, case):
    """Shown while the case is under identification, and afterwards when a comparison was
    recorded (what the determination was judged on)."""
    # Past identification with no comparison recorded the section is empty: asked before the
    # findings and lists are read (the history is read once per request, the context reuses it).
    if case.state not in IDENTIFICATION_STATES and not selectors.comparisons(case):
        return ""
    context = _context(request, case)
    return render_to_string("screening/_asset_section.html", context, request=request)


def _acts_as_county_officer(user):
    return any(r.role == Role.COUNTY_OFFICER for r in household_selectors.user_roles(user))


def inbox_panel(user):
    """The panel's rows as 我的待办 reads them with the others (FANPIN_INBOX_PANELS): for the
    county officer, the earliest discovered first."""
    if not _acts_as_county_officer(user):
        return None
    return Panel(selectors.awaiting_comparison_q(), ("discovered_on", "pk"), INBOX_SHOWN)


def inbox_section(request):
    """我的待办 of the county officer: cases at county review without a recorded comparison."""
    if not _acts_as_county_officer(request.user):
        return ""
    count = inbox_counts(request.user).get("assets", 0)  # one COUNT for the panels
    if not count:
        return ""
    cases = inbox_panel_rows(request.user, "assets")  # read with the other panels
    return render_to_string("screening/_asset_inbox.html", {"cases": cases, "count": count}, request=request)


@login_required
@require_POST
def comparison_record(request, pk):
    try:
        services.asset_comparison_record(
            user=request.user, case_id=pk, result=request.POST.get("result", ""), note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    except services.Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "信息比对结果已记录。")
    return redirect("monitoring:case-detail", pk=pk)


# --- API --------------------------------------------------------------------------------------


class AssetListSerializer(serializers.Serializer):
    department = serializers.CharField(help_text="部门代码：vehicles、property、business、payroll、housing_fund")
    department_label = serializers.CharField()
    period = serializers.CharField(help_text="数据月份 YYYY-MM")
    upload = serializers.IntegerField()


class AssetFindingSerializer(serializers.Serializer):
    key = serializers.CharField()
    department = serializers.CharField()
    department_label = serializers.CharField()
    period = serializers.CharField()
    upload = serializers.IntegerField()
    row = serializers.IntegerField(help_text="文件行号")
    id_number = serializers.CharField()
    name = serializers.CharField()
    name_differs = serializers.BooleanField(help_text="文件中的姓名与登记不符")
    figure = serializers.CharField(help_text="比对到的信息")
    cells = serializers.DictField(child=serializers.CharField(), help_text="该行的其他各列")


class ComparisonSerializer(serializers.ModelSerializer):
    result_label = serializers.CharField(source="get_result_display", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = AssetComparison
        fields = ["id", "case", "result", "result_label", "note", "findings", "lists", "recorded_by", "recorded_at"]
        read_only_fields = fields


class AssetFindingsSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    findings = AssetFindingSerializer(many=True)
    lists = AssetListSerializer(many=True, help_text="已收到的比对数据（各部门最新一期）")
    comparison = ComparisonSerializer(allow_null=True, help_text="最近一次记录的比对结果")
    history = ComparisonSerializer(many=True)
    problems = serializers.ListField(child=serializers.CharField(), help_text="县级认定前须先处理的事项")


class RecordSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=AssetComparison.Result.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AssetFindings(APIView):
    @extend_schema(
        responses={200: AssetFindingsSerializer},
        description=(
            "信息比对：该监测对象（认定阶段）家庭成员在车辆、不动产、市场主体、财政供养、公积金数据中的比对信息，"
            "已收到的比对数据、已记录的比对结果；无权查看的返回 404。"
        ),
    )
    def get(self, request, pk):
        case = selectors.asset_case_for(request.user, pk)
        history = selectors.comparisons(case)
        data = {
            "case": case.pk,
            "findings": [f.as_dict() for f in selectors.case_findings(case)],
            "lists": [x.as_dict() for x in selectors.asset_lists(selectors.case_county(case))],
            "comparison": ComparisonSerializer(history[0]).data if history else None,
            "history": ComparisonSerializer(history, many=True).data,
            "problems": selectors.determination_problems(case),
        }
        return Response(data)


class AssetComparisonRecord(APIView):
    @extend_schema(
        request=RecordSerializer,
        responses={
            201: ComparisonSerializer,
            400: VALIDATION_ERRORS,
            403: OpenApiResponse(description="只有县乡村振兴局可以记录"),
            409: OpenApiResponse(description="不在认定阶段，或重复提交相同的结果"),
        },
        description=(
            "记录信息比对结果：result 为 none_found（未发现财产信息）、found（发现财产信息）或 no_lists"
            "（未收到比对数据）；found、no_lists 及有比对信息时记录 none_found 须填 note。县级认定前必须记录。"
        ),
    )
    def post(self, request, pk):
        selectors.asset_case_for(request.user, pk)  # scope first: 404 whatever the body
        incoming = RecordSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            comparison = services.asset_comparison_record(user=request.user, case_id=pk, **incoming.validated_data)
        except services.Conflict as exc:
            return Response({"detail": exc.message, "reasons": exc.reasons}, status=status.HTTP_409_CONFLICT)
        return Response(ComparisonSerializer(comparison).data, status=status.HTTP_201_CREATED)


api_urlpatterns = [
    path("cases/<int:pk>/asset-findings/", AssetFindings.as_view(), name="case-asset-findings"),
    path("cases/<int:pk>/asset-comparison/", AssetComparisonRecord.as_view(), name="case-asset-comparison"),
]
