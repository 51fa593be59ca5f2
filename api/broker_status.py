"""What the API asks the broker: can it be reached, and how many messages wait.

Both go through the Celery app's own connection, so one code path serves
Redis and the embedded folder broker. A passive queue declaration answers the
depth on each: the sum of LLEN over Redis's priority lists, or the count of
message files in the folder. Short socket timeouts and no retries keep a hung
broker from holding a readiness probe or a metrics scrape.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from celery import Celery
from kombu import Connection
from kombu.exceptions import ChannelError

from persistence.broker import CPU_QUEUE, GPU_QUEUE

TIMEOUT_SECONDS = 2.0
QUEUES = (CPU_QUEUE, GPU_QUEUE)


@contextmanager
def connect(celery: Celery) -> Iterator[Connection]:
    """A fresh broker connection that fails within TIMEOUT_SECONDS."""
    connection = celery.connection_for_read(
        transport_options={
            "socket_timeout": TIMEOUT_SECONDS,
            "socket_connect_timeout": TIMEOUT_SECONDS,
        }
    )
    try:
        connection.ensure_connection(
            max_retries=0, interval_start=0, timeout=TIMEOUT_SECONDS
        )
        yield connection
    finally:
        connection.release()


def _depth(connection: Connection, queue: str) -> int:
    try:
        declared = connection.default_channel.queue_declare(queue=queue, passive=True)
    except ChannelError:
        # Redis deletes the key of an emptied list, so a queue with no waiting
        # message does not exist there.
        return 0
    return int(declared.message_count)


def queue_depths(celery: Celery) -> dict[str, int]:
    """Messages waiting in each device queue; raises if the broker is down."""
    with connect(celery) as connection:
        return {queue: _depth(connection, queue) for queue in QUEUES}


def ping(celery: Celery) -> None:
    """Raise unless the broker answers a question about the CPU queue."""
    with connect(celery) as connection:
        _depth(connection, CPU_QUEUE)
