"""The Celery application both sides use: the API to send, the worker to run.

Messages carry a job id and an attempt number, nothing else; the database is
the record (DESIGN.md). JSON is the only serializer, so nothing is unpickled.
"""

import structlog
from celery import Celery
from kombu.exceptions import ChannelError

from persistence.settings import Settings, get_settings

log = structlog.get_logger(__name__)

RUN_JOB_TASK = "training.run_job"
CPU_QUEUE = "cpu"
GPU_QUEUE = "gpu"

# The hard time limit follows the soft one by this much: time for the worker
# to write the failure after SoftTimeLimitExceeded, even on a slow database.
HARD_LIMIT_GRACE_SECONDS = 60.0
# Between delivery and the start of the task, and after its end until the ack.
VISIBILITY_MARGIN_SECONDS = 600.0


def time_limits(settings: Settings) -> tuple[float, float]:
    """Celery's soft and hard time limits for one attempt of a job."""
    soft = settings.job_time_limit_seconds
    return soft, soft + HARD_LIMIT_GRACE_SECONDS


def visibility_timeout(settings: Settings) -> float:
    # Redis redelivers a message not acknowledged within this many seconds.
    # acks_late holds the ack until the attempt ends, so it must exceed the
    # longest attempt, which the hard time limit bounds. A redelivery of a job
    # still running is harmless (its live lease turns it away), only wasteful.
    return time_limits(settings)[1] + VISIBILITY_MARGIN_SECONDS


def make_celery(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = Celery("descent", broker=settings.resolved_broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        event_serializer="json",
        result_backend=None,
        task_ignore_result=True,
        # A message is acknowledged when its task ends, and a pool process that
        # dies (SIGKILL, the OOM killer) puts it back on the queue.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # How long the pool waits for a dead process's result before it frees
        # the slot (10 s by default). There is no result to wait for: the
        # database holds the outcome.
        worker_lost_wait=1.0,
        worker_prefetch_multiplier=1,
        # A lost broker connection leaves training running: the database, not
        # the message, says whose job it is.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_default_queue=CPU_QUEUE,
        task_routes={RUN_JOB_TASK: {"queue": CPU_QUEUE}},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    if settings.resolved_broker_url.startswith("filesystem"):
        # The embedded broker: one folder of message files that the API writes
        # and the worker polls, so no server needs to be installed. A message
        # file is deleted when a worker receives it: if the whole worker dies,
        # only the reaper brings its job back.
        folder = settings.broker_folder
        for name in ("queue", "control"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        app.conf.broker_transport_options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.2,
        }
    else:
        app.conf.broker_transport_options = {
            "visibility_timeout": visibility_timeout(settings)
        }
    return app


def send_run_job(app: Celery, job_id: str, attempt: int, queue: str) -> bool:
    """Send one attempt's message; False (logged) when the broker refuses.

    A job whose send failed stays queued in the database, and the reaper sends
    it again, so a caller never has to retry.
    """
    try:
        app.send_task(RUN_JOB_TASK, args=[job_id, attempt], queue=queue)
    except Exception:
        log.warning("job.send_failed", job_id=job_id, attempt=attempt, exc_info=True)
        return False
    log.info("job.sent", job_id=job_id, attempt=attempt, queue=queue)
    return True


def queue_depth(app: Celery, queue: str) -> int:
    """Messages waiting in ``queue``; raises when the broker is unreachable."""
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1)
        try:
            declared = connection.default_channel.queue_declare(
                queue=queue, passive=True
            )
        except ChannelError:
            # Redis drops the key of an emptied list: no such queue, no message.
            return 0
        return int(declared.message_count)
