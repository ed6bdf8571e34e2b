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


def healthz(request):
    """GET /healthz: database, Redis and worker, each "ok" or why not; 200 when all are
    usable, 503 otherwise. Names no host, address or credential."""
    from django.conf import settings
    from django.db import connection

    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not usable", and is answered as such
        checks["database"] = "unreachable"
    broker = getattr(settings, "REDIS_URL", "")
    if not broker:
        checks["redis"] = "not configured"
        checks["worker"] = "in-process"  # no REDIS_URL: tasks run inside the request
    else:
        import redis

        try:
            redis.Redis.from_url(broker, socket_connect_timeout=1, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except Exception:  # noqa: BLE001
            checks["redis"] = "unreachable"
        checks["worker"] = _worker_status() if checks["redis"] == "ok" else "unknown"
    healthy = (
        checks["database"] == "ok"
        and checks.get("redis") in ("ok", "not configured")
        and (checks["worker"] in ("ok", "in-process"))
    )
    checks["status"] = "ok" if healthy else "unavailable"
    response = JsonResponse(checks, status=200 if healthy else 503)
    return response


def _worker_status():
    from fanpin.celery import app

    try:
        replies = app.control.ping(timeout=1.0)
    except Exception:  # noqa: BLE001
        return "unknown"
    return "ok" if replies else "no worker"
