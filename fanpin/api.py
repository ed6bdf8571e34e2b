"""Shared REST framework pieces: pagination and error translation."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def validation_detail(error):
    """Turn a Django ValidationError into the field -> messages shape DRF answers with."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in msgs]
            for field, msgs in error.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


NOT_FOUND = "未找到该记录，或您无权查看。"
PARSE_ERROR = "请求内容无法解析：请发送有效的 JSON 对象或表单数据。"


def _is_chinese(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def exception_handler(exc, context):
    """Services raise Django's exceptions; the API answers them as DRF would its own.

    Two of DRF's own answers would otherwise reach the client in English: Django's
    get_object_or_404 ("No Household matches the given query.") and the JSON parser's
    error text. Both are replaced by a Chinese message; a 404 says the same whether the
    record does not exist or lies outside the caller's scope."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_detail(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        message = str(exc)
        exc = exceptions.NotFound(message if _is_chinese(message) else NOT_FOUND)
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ParseError(PARSE_ERROR)
    return drf_exception_handler(exc, context)


class ReadOnlyBlankChoicesMixin:
    """Keep `allow_blank` on read-only choice fields of a ModelSerializer.

    DRF drops it for fields in Meta.read_only_fields, so the schema would promise one of the
    choices while a case not yet categorised answers category "" (schemathesis caught it)."""

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        blank_choice = kwargs.get("allow_blank") and "choices" in kwargs
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank_choice:
            kwargs["allow_blank"] = True
        return kwargs
