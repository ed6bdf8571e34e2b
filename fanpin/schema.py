"""The OpenAPI schema class: drf-spectacular's, plus the error answers of every endpoint.

Kept apart from fanpin.api, which REST framework imports while it loads its own settings
(drf_spectacular.openapi imports the generic views, which need those settings)."""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import IsAuthenticated

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "中文说明"}},
    "required": ["detail"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "按字段给出中文错误信息：{字段名: [信息, …]}；non_field_errors 为整体错误；"
    "嵌套的成员错误按序号给出。请求无法解析时为 {detail: 信息}。",
    "additionalProperties": {},
}
VALIDATION_ERRORS = OpenApiResponse(VALIDATION_ERROR_SCHEMA, description="数据不完整或不正确（按字段返回中文错误信息）")


class AutoSchema(openapi.AutoSchema):
    """Every operation also documents the errors the API answers with, so a client (or a
    schema-driven test) knows a 400, 401, 403 or 404 is a designed answer, not a surprise.
    Codes an endpoint documents itself (e.g. the transition's 409) are kept as written."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {}
        writes = self.method in ("POST", "PUT", "PATCH")
        is_list = self.method == "GET" and self._is_list_view()
        if writes or (is_list and getattr(self.view, "filter_backends", None)):
            errors["400"] = VALIDATION_ERRORS
        if any(isinstance(p, IsAuthenticated) for p in self.view.get_permissions()):
            errors["401"] = OpenApiResponse(ERROR_SCHEMA, description="未登录或令牌无效")
        if writes and "401" in errors:
            errors["403"] = OpenApiResponse(ERROR_SCHEMA, description="您的角色不能执行此操作")
        if writes:
            errors["415"] = OpenApiResponse(ERROR_SCHEMA, description="不支持的请求内容类型（Content-Type）")
        if "{" in self.path or (is_list and getattr(self.view, "pagination_class", None)):
            errors["404"] = OpenApiResponse(ERROR_SCHEMA, description="不存在、不在您的管辖范围内，或页码无效")
        for code, response in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses
