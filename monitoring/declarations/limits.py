"""Rate limits of the public declaration page and API, without outside services (issue 12
point 2): fixed-window counters in Django's cache (Redis in production, local memory on a
laptop and in tests). A refused request is told, in Chinese, when it may try again.

- accepted declarations per client address (DECLARATION_LIMIT_PER_IP an hour) and per ID
  number (DECLARATION_LIMIT_PER_ID_NUMBER a day): only accepted ones count, so a mistyped ID
  number costs nothing;
- status look-ups per client address (DECLARATION_STATUS_LIMIT_PER_IP an hour), every one
  counted, so the last six characters of an ID number cannot be guessed by trying.
The client address is the one django-axes reads for the login lock-out (TRUSTED_PROXY_COUNT).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True)
class Limit:
    name: str
    setting: str
    default: int
    window: int  # seconds

    @property
    def count(self) -> int:
        return int(getattr(settings, self.setting, self.default))


PER_IP = Limit("ip", "DECLARATION_LIMIT_PER_IP", 10, HOUR)
PER_ID_NUMBER = Limit("id", "DECLARATION_LIMIT_PER_ID_NUMBER", 3, DAY)
STATUS_PER_IP = Limit("status", "DECLARATION_STATUS_LIMIT_PER_IP", 30, HOUR)


class RateLimited(Exception):
    """Too many requests: HTTP 429 with Retry-After (seconds)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def client_address(request: HttpRequest) -> str:
    return str(get_client_ip_address(request) or request.META.get("REMOTE_ADDR") or "unknown")


def _key(limit: Limit, value: str, now: float) -> tuple[str, int]:
    # Hashed: no ID number or address is written to the cache in clear.
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{limit.name}:{value}".encode()).hexdigest()[:32]
    window = int(now // limit.window)
    retry = int(math.ceil((window + 1) * limit.window - now))
    return f"fanpin:declare:{limit.name}:{digest}:{window}", max(retry, 1)


def _wait_text(seconds: int) -> str:
    if seconds >= HOUR:
        return f"{math.ceil(seconds / HOUR)} 小时"
    return f"{max(1, math.ceil(seconds / 60))} 分钟"


MESSAGES = {
    "ip": "提交太频繁：同一网络 1 小时内最多提交 {n} 份申报。请 {wait}后再试，或拨打 12317 热线、到村委会或镇便民服务窗口申报。",
    "id": "该身份证号今天已提交 {n} 份申报，村里会一并核实，无需重复提交。如有新情况，请 {wait}后再报，或直接联系村干部。",
    "status": "查询太频繁，请 {wait}后再试。",
}


def check(limit: Limit, value: str) -> None:
    """Raise RateLimited when `value` has used up `limit` in the current window."""
    key, retry = _key(limit, value, time.time())
    used = cache.get(key, 0)
    if used >= limit.count:
        raise RateLimited(MESSAGES[limit.name].format(n=limit.count, wait=_wait_text(retry)), retry)


def spend(limit: Limit, value: str) -> None:
    key, retry = _key(limit, value, time.time())
    if not cache.add(key, 1, timeout=retry + 5):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=retry + 5)


def check_and_spend(limit: Limit, value: str) -> None:
    check(limit, value)
    spend(limit, value)
