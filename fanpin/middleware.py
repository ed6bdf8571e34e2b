"""Request and response guards that hold for every page and API endpoint (issue 14).

RequestGuardMiddleware answers a request body no view should see with 400 (413 when too
large), in Chinese, as JSON under /api/ and as a page elsewhere:
- JSON nested deeper than MAX_JSON_DEPTH (a body of 1,000 "[" made the parser recurse until
  RecursionError, a 500, and with DEBUG a 138 KB traceback page),
- a form body that is not UTF-8 when no other charset is declared (a GBK post was stored as
  mojibake), or one whose declared charset Python does not know,
- text with characters no name, address or note contains (households.text).

DatabaseDropMiddleware (below) answers a request whose database connection broke with 503,
saying whether the step was saved.

PrivateResponseMiddleware marks every answer the application itself makes `no-store`:
pages and API answers carry ID numbers, phones and health data, and the static files
(served by WhiteNoise before this point) are the only public, cacheable answers. It also
names the signed-in user's id in `X-Fanpin-User`, for the service worker (fanpin/pwa.py).
"""

import codecs
import json
import logging
from urllib.parse import unquote_to_bytes

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme

from households import text

logger = logging.getLogger(__name__)

MAX_JSON_DEPTH = 32

DEPTH_MESSAGE = f"请求内容嵌套层数过多（最多 {MAX_JSON_DEPTH} 层），请检查提交的 JSON。"
ENCODING_MESSAGE = "请求内容不是有效的 UTF-8 编码。请使用 UTF-8 提交，或在 Content-Type 中声明所用的字符集（charset）。"
URLENCODED_CHARSET_MESSAGE = "表单内容须以 UTF-8 编码提交（application/x-www-form-urlencoded 只支持 UTF-8）。"
CHARSET_MESSAGE = "不支持请求声明的字符集 {charset}，请使用 UTF-8。"
TOO_BIG_MESSAGE = "请求内容过大，请减少数据量或分批提交。"
TOO_MANY_FIELDS_MESSAGE = "请求中的字段过多。"


def is_api(request):
    return request.path_info.startswith("/api/")


def error_response(request, message, status=400, field=None):
    """The guard's answer: {"detail": ...} (or {field: [...]}) for API clients, a page otherwise."""
    if is_api(request):
        body = {field: [message]} if field else {"detail": message}
        return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    return render(request, "400.html", {"message": message, "field": field}, status=status)


def json_depth_exceeded(value, limit=MAX_JSON_DEPTH):
    """True if a parsed JSON value nests lists/objects deeper than `limit` (iterative: a
    recursive walk would fail on exactly the bodies it is meant to catch)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _strings(value):
    """(field name, text) for every string in a parsed JSON body, keys included."""
    stack = [(None, value)]
    while stack:
        name, node = stack.pop()
        if isinstance(node, str):
            yield name, node
        elif isinstance(node, dict):
            for key, child in node.items():
                yield key, key
                stack.append((key if name is None else name, child))
        elif isinstance(node, list):
            stack.extend((name, child) for child in node)


def _forbidden_text(pairs):
    for name, value in pairs:
        message = text.forbidden_character(value)
        if message:
            return name, message
    return None


def _urlencoded_is_utf8(body):
    for part in body.split(b"&"):
        for piece in part.split(b"=", 1):
            try:
                unquote_to_bytes(piece.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return False
    return True


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            try:
                refusal = self.check_body(request)
            except RequestDataTooBig:
                refusal = error_response(request, TOO_BIG_MESSAGE, status=413)
            except TooManyFieldsSent:
                refusal = error_response(request, TOO_MANY_FIELDS_MESSAGE)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def check_body(self, request):
        content_type = request.content_type or ""
        charset = request.content_params.get("charset")
        if charset:
            try:
                codecs.lookup(charset)
            except LookupError:
                return error_response(request, CHARSET_MESSAGE.format(charset=charset[:40]))
        if content_type == "application/json" or content_type.endswith("+json"):
            return self.check_json(request, charset or "utf-8")
        if content_type == "application/x-www-form-urlencoded":
            # Django reads url-encoded forms as UTF-8 only (it refuses another declared charset
            # with an English 400); multipart forms may declare one.
            if charset and codecs.lookup(charset).name != "utf-8":
                return error_response(request, URLENCODED_CHARSET_MESSAGE)
            if not _urlencoded_is_utf8(request.body):
                return error_response(request, ENCODING_MESSAGE)
            return self.check_form(request)
        if content_type == "multipart/form-data":
            return self.check_form(request, multipart=True)
        return None

    def check_json(self, request, charset):
        try:
            data = json.loads(request.body.decode(charset))
        except RecursionError:
            return error_response(request, DEPTH_MESSAGE)
        except (ValueError, UnicodeDecodeError):
            return None  # malformed JSON: the API's parser answers it (400, fanpin.api.PARSE_ERROR)
        if json_depth_exceeded(data):
            return error_response(request, DEPTH_MESSAGE)
        found = _forbidden_text(_strings(data))
        if found:
            return error_response(request, found[1], field=found[0])
        return None

    def check_form(self, request, multipart=False):
        pairs = [(key, key) for key in request.POST] + [
            (key, value) for key, values in request.POST.lists() for value in values
        ]
        # Multipart fields are decoded with replacement characters: a U+FFFD nobody types
        # means the bytes were not UTF-8.
        if multipart and not request.content_params.get("charset") and any("\ufffd" in v for _, v in pairs):
            return error_response(request, ENCODING_MESSAGE)
        found = _forbidden_text(pairs)
        if found:
            return error_response(request, found[1], field=found[0])
        return None


class PrivateResponseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # The field app's service worker keeps a signed-in cadre's opened pages and drops
            # them when a page is made for someone else or for nobody (static/js/sw.js).
            response["X-Fanpin-User"] = str(user.pk)
        return response


NOT_SAVED_MESSAGE = "数据库连接中断，本次操作没有保存（已全部撤销）。请稍后重新提交。"
UNCONFIRMED_MESSAGE = (
    "数据库连接中断，无法确认本次操作是否已经保存。请刷新页面查看当前状态：已完成的不要重复提交"
    "（重复提交会被拒绝，不会执行两次）；没有完成的请重新操作。"
)


class DatabaseDropMiddleware:
    """A database connection lost in the middle of a request (PostgreSQL restarted, a network
    cut, the backend terminated) answers 503 and tells the person what happened to their step.

    Every user action is one transaction (STYLE.md), so it happened exactly once or not at all:
    - the connection failed on a statement inside the transaction, or before anything was
      written: the transaction is rolled back, "没有保存";
    - it failed while committing, or after a transaction of this request had ended (while the
      answer was being built): the step may be saved, and the person is told to look. A
      repeated step is refused by the workflow (the state has moved on), never taken twice.
    The broken connection is closed, so the error page (and the session) reconnect.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.db import connection

        seen = {"wrote": False, "failed_in_transaction": None}

        def watch(execute, sql, params, many, context):
            in_transaction = context["connection"].in_atomic_block
            try:
                result = execute(sql, params, many, context)
            except (OperationalError, InterfaceError):
                if seen["failed_in_transaction"] is None:
                    seen["failed_in_transaction"] = in_transaction
                raise
            if in_transaction or not sql.lstrip()[:6].upper().startswith("SELECT"):
                seen["wrote"] = True
            return result

        request._database_drop = seen
        with connection.execute_wrapper(watch):
            return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        from django.db import connection

        logger.error("Database connection lost during %s %s", request.method, request.path, exc_info=exception)
        seen = getattr(request, "_database_drop", {"wrote": True, "failed_in_transaction": None})
        saved_unknown = seen["wrote"] and not seen["failed_in_transaction"]
        connection.close()  # unusable now; the next query (the error page, the session) reconnects
        message = UNCONFIRMED_MESSAGE if saved_unknown else NOT_SAVED_MESSAGE
        if is_api(request):
            response = JsonResponse(
                {"detail": message, "saved": None if saved_unknown else False},
                status=503,
                json_dumps_params={"ensure_ascii": False},
            )
        else:
            referer = request.META.get("HTTP_REFERER", "")
            back = referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else ""
            context = {"message": message, "saved_unknown": saved_unknown, "back": back}
            response = render(request, "503.html", context, status=503)
        response["Retry-After"] = "5"
        return response
