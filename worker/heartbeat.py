"""The worker's heartbeat row: written at start, every 15 s, removed at exit."""

import threading

import structlog
from celery.signals import worker_ready, worker_shutdown

from persistence import workers
from persistence.db import session_scope

log = structlog.get_logger(__name__)

_stop = threading.Event()


def _queues(consumer: object) -> list[str]:
    task_consumer = getattr(consumer, "task_consumer", None)
    queues = getattr(task_consumer, "queues", None) or []
    return sorted(queue.name for queue in queues)


def _beat_forever(name: str, queues: list[str]) -> None:
    while not _stop.wait(workers.HEARTBEAT_SECONDS):
        try:
            with session_scope() as session:
                workers.beat(session, name, queues)
        except Exception:
            # A database outage must not kill the worker; the next beat retries.
            log.warning("worker.heartbeat_failed", worker=name, exc_info=True)


@worker_ready.connect
def _start(sender: object, **_: object) -> None:
    name = getattr(sender, "hostname", "worker")
    queues = _queues(sender)
    with session_scope() as session:
        workers.beat(session, name, queues)
    log.info("worker.registered", worker=name, queues=queues)
    threading.Thread(
        target=_beat_forever, args=(name, queues), daemon=True, name="heartbeat"
    ).start()


@worker_shutdown.connect
def _leave(sender: object, **_: object) -> None:
    _stop.set()
    name = getattr(sender, "hostname", "worker")
    try:
        with session_scope() as session:
            workers.leave(session, name)
    except Exception:
        log.warning("worker.unregister_failed", worker=name, exc_info=True)
