"""Sending work to the Celery broker (Redis) when the broker may be restarting.

A file a person uploaded is committed (row and file) before its task is sent. If Redis cannot
be reached at that moment, even after the publish retries (CELERY_TASK_PUBLISH_RETRY_POLICY),
the upload is not lost and not half done: it stays queued, the person is told that it will be
processed once the background service is back, and the beat sweeps (households.import_jobs,
screening.services) send it again when it has waited STALE_QUEUED.
"""

import logging
from collections.abc import Callable

from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What a publish raises when the broker is down or restarting (kombu wraps the redis errors).
BROKER_ERRORS: tuple[type[BaseException], ...] = (OperationalError, ConnectionError, TimeoutError)

WAITING_NOTICE = "文件已保存。后台处理服务暂时连接不上，恢复后会自动开始处理（通常在二十分钟内），无需重新上传。"


def send_or_wait(send: Callable[[], object], what: str) -> bool:
    """Call `send` (an .apply_async or .delay); True if it reached the broker, False (logged)
    if the broker could not be reached: the caller leaves its row queued for the sweep."""
    try:
        send()
    except BROKER_ERRORS:
        logger.warning("Broker unreachable, %s stays queued for the sweep to send again", what, exc_info=True)
        return False
    return True
