"""REST API of screening uploads (README: 部门筛查). Thin: every write is screening.services."""

from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from fanpin.schema import VALIDATION_ERRORS

from . import downloads, selectors, services
from .layouts import LAYOUTS
from .serializers import RowOutcomeSerializer, UploadCreateSerializer, UploadDetailSerializer, UploadSerializer
from .views import xlsx_response

XLSX = OpenApiResponse(OpenApiTypes.BINARY, description=".xlsx 文件")


class UploadListCreate(generics.ListAPIView):
    """GET: uploads the user may see, newest first. POST: upload a department file."""

    serializer_class = UploadSerializer
    parser_classes = [MultiPartParser, FormParser]
    filter_backends: list = []

    def get_queryset(self):
        return selectors.uploads_visible_to(self.request.user)

    @extend_schema(
        request={"multipart/form-data": UploadCreateSerializer},
        responses={
            201: UploadDetailSerializer,
            400: VALIDATION_ERRORS,
            409: OpenApiResponse(description="该部门该月份已有一份文件正在处理"),
        },
        description=(
            "上传部门筛查文件：行业部门人员只能为本部门上传（其他部门 403）；县乡村振兴局须指定 department。"
            "无法读取、为空或与部门模板不符的文件返回 400，不保存任何内容。文件保存后由后台任务处理，"
            "用 GET /api/screening/uploads/{id}/ 查看进度和结果。"
        ),
    )
    def post(self, request, *args, **kwargs):
        incoming = UploadCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            upload = services.upload_create(
                user=request.user,
                kind=data.get("department"),
                period=data["period"],
                upload=data["file"],
                county=data.get("county"),
            )
        except services.UploadConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        upload = selectors.upload_for(request.user, upload.pk)
        return Response(UploadDetailSerializer(upload).data, status=status.HTTP_201_CREATED)


class UploadDetail(generics.RetrieveAPIView):
    """An upload: status, progress (0-100), counts and its bad rows (row, column, reason)."""

    serializer_class = UploadDetailSerializer

    def get_object(self):
        return selectors.upload_for(self.request.user, self.kwargs["pk"])


class UploadRows(generics.ListAPIView):
    """Each valid row's outcome (matched to the registry or not), as the department may see it."""

    serializer_class = RowOutcomeSerializer
    filter_backends: list = []

    def get_queryset(self):
        upload = selectors.upload_for(self.request.user, self.kwargs["pk"])
        return selectors.row_outcomes(upload)


@extend_schema(responses={200: XLSX}, description="该上传的全部错误行（原内容、行号和错误原因），.xlsx")
class UploadBadRows(generics.GenericAPIView):
    def get(self, request, pk):
        upload = selectors.upload_for(request.user, pk)
        return xlsx_response(downloads.bad_rows_xlsx(upload), f"错误行-{upload.department.name}-{upload.period_label}")


@extend_schema(responses={200: XLSX}, description="部门的上传模板（.xlsx），kind 为部门类别")
class TemplateDownload(generics.GenericAPIView):
    def get(self, request, kind):
        layout = LAYOUTS.get(kind)
        if layout is None:
            raise Http404("没有这个部门类别。")
        return xlsx_response(downloads.template_xlsx(layout), f"{layout.label}部门筛查模板")


urlpatterns = [
    path("screening/uploads/", UploadListCreate.as_view(), name="screening-uploads"),
    path("screening/uploads/<int:pk>/", UploadDetail.as_view(), name="screening-upload"),
    path("screening/uploads/<int:pk>/rows/", UploadRows.as_view(), name="screening-upload-rows"),
    path("screening/uploads/<int:pk>/bad-rows/", UploadBadRows.as_view(), name="screening-upload-bad-rows"),
    path("screening/templates/<str:kind>/", TemplateDownload.as_view(), name="screening-template"),
]
