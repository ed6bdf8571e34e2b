"""Project-wide views: error answers (JSON under /api/, pages elsewhere) and the health check."""

from django.http import JsonResponse
from django.views import defaults

NOT_FOUND = "未找到该记录或接口地址，或您无权查看。"
FORBIDDEN = "您无权进行此操作。"
BAD_REQUEST = "请求不完整或格式不正确。"
SERVER_ERROR = "服务器处理请求时出错，已记录在日志中，请稍后再试。"


def _api(request):
    return request.path_info.startswith("/api/")


def _json(message, status):
    return JsonResponse({"detail": message}, status=status, json_dumps_params={"ensure_ascii": False})


def bad_request(request, exception, template_name="400.html"):
    if _api(request):
        return _json(BAD_REQUEST, 400)
    return defaults.bad_request(request, exception, template_name)


def permission_denied(request, exception, template_name="403.html"):
    if _api(request):
        return _json(str(exception) or FORBIDDEN, 403)
    return defaults.permission_denied(request, exception, template_name)


def page_not_found(request, exception, template_name="404.html"):
    if _api(request):
        return _json(NOT_FOUND, 404)
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name="500.html"):
    if _api(request):
        return _json(SERVER_ERROR, 500)
    return defaults.server_error(request, template_name)
