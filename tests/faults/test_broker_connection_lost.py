"""A worker that loses Redis in the middle of a read closes its channel and lives on.

The state Celery 5.7's consumer leaves on a broker connection error, set up on a kombu
connection of its own against the test Redis: ``collect()`` has detached the transport while
the channel is still open and the worker still holds an unacknowledged message; then the
consumer ``close()``s the connection. With kombu's own Redis transport the close raised
``AttributeError`` and stopped the worker; with fanpin's (fanpin/celery_transport.py) it raises
only a connection error, which the consumer ignores, and the held message is not lost.
"""

import os
import subprocess
import sys
import uuid

import pytest
from kombu import Connection, Exchange, Queue
from kombu.transport import redis as kombu_redis

from fanpin.celery_transport import Transport
from tests.celery_fixtures import BROKER_ENV

pytestmark = pytest.mark.skipif(not os.environ.get(BROKER_ENV), reason="需要 Redis（REDIS_URL）")


def connection_losing_redis_mid_read(transport):
    """A connection holding one unacknowledged message, left as the consumer's collect() leaves it.

    On the broker error, Celery collects the connection: the channel's pools are dropped and the
    transport is detached from its connection, while the channel (whose first close was cut
    short by the failed read) is still open with the message it holds.
    """
    url = os.environ[BROKER_ENV]
    name = f"fanpin-test-lost-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, Exchange(name), routing_key=name)
    conn = Connection(url, transport=transport)
    channel = conn.default_channel
    queue(channel).declare()
    conn.Producer(channel).publish({"n": 1}, exchange=queue.exchange, routing_key=name, declare=[queue])
    held = channel.basic_get(name, no_ack=False)
    assert held is not None and len(channel.qos._delivered) == 1
    channel._disconnect_pools()
    conn._transport.client = None  # kombu.Connection._do_close_transport, run by collect()
    return conn, name, url


def test_closing_the_collected_connection_no_longer_stops_the_worker():
    conn, name, url = connection_losing_redis_mid_read(Transport)
    conn.close()  # … then close it: only connection errors may come out, and they are ignored

    # The message the worker held is still in Redis's unacknowledged set: once the visibility
    # timeout has passed, any worker's restore puts it back on the queue.
    with Connection(url, transport=Transport, transport_options={"visibility_timeout": 0}) as fresh:
        fresh.default_channel.qos.restore_visible(num=100)
        message = fresh.default_channel.basic_get(name, no_ack=True)
        assert message is not None and message.decode() == {"n": 1}
        fresh.default_channel.queue_delete(name)


def test_kombus_own_transport_stopped_the_worker_there():
    """The failure the repair is for (if kombu fixes it, this test says the repair can go)."""
    conn, name, url = connection_losing_redis_mid_read(kombu_redis.Transport)
    with pytest.raises(AttributeError, match="hostname"):
        conn.close()
    with Connection(url) as fresh:
        fresh.default_channel.queue_delete(name)


def test_a_redis_broker_uses_the_repaired_transport():
    script = "import django; django.setup(); from django.conf import settings; print(settings.CELERY_BROKER_TRANSPORT)"
    env = {**os.environ, "REDIS_URL": os.environ[BROKER_ENV], "DJANGO_SETTINGS_MODULE": "fanpin.settings"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "fanpin.celery_transport:Transport"
