"""The Redis broker transport, with one repair: closing a channel after the connection is gone.

When a worker loses Redis in the middle of a blocking read, Celery 5.7's consumer first
``collect()``s the broken connection, which detaches the transport from its kombu
``Connection`` (``transport.client = None``) while the channel is still open, and then
``close()``s it. Closing the channel hands the messages the worker held back to Redis, and to do
that kombu's Redis channel builds a new connection pool from ``transport.client``: an
``AttributeError`` on ``None``, which no caller expects (they ignore connection errors only), so it
escaped and stopped the worker (seen in CI: tests/faults/test_redis_restarted.py). Here that case
raises the connection error it is: the close goes on, the worker reconnects, and the held messages
stay in Redis's unacknowledged set, from which kombu puts them back on the queue after the
visibility timeout, as it does for a worker that died.

Selected by ``CELERY_BROKER_TRANSPORT`` in settings when the broker is Redis.
"""

from typing import Any

from kombu.transport import redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> Any:
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection is already closed; held messages stay unacknowledged")
        # celery-types stubs leave out this private kombu method (it is there: kombu 5.7 redis.py).
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]


class Transport(redis.Transport):
    Channel = Channel
