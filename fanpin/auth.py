"""Brute-force protection for the login page and the API token endpoint (django-axes).

After AXES_FAILURE_LIMIT failed logins from one address, or for one account, further
attempts from that address or for that account are refused for the cool-off time, even
with the right password: 429 with `Retry-After` on the API, a Chinese page on the site,
both saying when to retry. django-axes logs each lock-out (logger "axes", WARNING) and keeps
the attempts in its tables; an administrator lifts a lock-out by deleting the attempt in
the admin (访问尝试) or with `manage.py axes_reset_username USERNAME` / `axes_reset_ip IP`.
"""

import math

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from fanpin.schema import ERROR_SCHEMA, VALIDATION_ERRORS


class LoginGuardBackend(AxesStandaloneBackend):
    """Axes' check for every login that comes with a request. A call without one (a
    management command, the shell, a test helper) is not a login from outside and is not
    counted; axes' own backend would refuse it with an exception."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_message(cool_off):
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    until = timezone.localtime() + cool_off
    return (
        f"登录失败次数过多，该账号或本机地址已被暂时锁定。请在 {minutes} 分钟后"
        f"（{until:%H:%M} 以后）再试；如需立即解锁，请联系系统管理员。"
    )


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the answer to any login attempt while locked out."""
    cool_off = get_cool_off(request)
    message = lockout_message(cool_off)
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429, json_dumps_params={"ensure_ascii": False})
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(write_only=True)
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class ObtainToken(ObtainAuthToken):
    """POST /api/auth/token/. The login is checked against the underlying Django request so
    that django-axes sees the address and flags a lock-out (DRF's own view hands axes its
    Request wrapper, whose flags the lock-out middleware never reads)."""

    @extend_schema(
        summary="获取 API 令牌",
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: VALIDATION_ERRORS,
            429: OpenApiResponse(ERROR_SCHEMA, description="登录失败次数过多，已暂时锁定（响应头 Retry-After 为秒数）"),
        },
    )
    def post(self, request, *args, **kwargs):
        shape = TokenRequestSerializer(data=request.data)
        shape.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(
            request=django_request,
            username=shape.validated_data["username"],
            password=shape.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            return lockout_response(django_request)
        if user is None or not user.is_active:
            return Response({"non_field_errors": ["用户名或密码不正确。"]}, status=status.HTTP_400_BAD_REQUEST)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


obtain_token = ObtainToken.as_view()
