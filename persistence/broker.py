"""The Celery application both sides use: the API to send, the worker to run.

Messages carry a job id and an attempt number, nothing else; the database is
the record (DESIGN.md). JSON is the only serializer, so nothing is unpickled.
"""

from celery import Celery

from persistence.settings import Settings, get_settings

RUN_JOB_TASK = "training.run_job"
CPU_QUEUE = "cpu"
GPU_QUEUE = "gpu"

# Redis redelivers a message not acknowledged within this many seconds; it must
# exceed the longest job, since acks_late holds the ack until training ends.
VISIBILITY_TIMEOUT_SECONDS = 24 * 3600


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
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=CPU_QUEUE,
        task_routes={RUN_JOB_TASK: {"queue": CPU_QUEUE}},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    if settings.resolved_broker_url.startswith("filesystem"):
        # The embedded broker: one folder of message files that the API writes
        # and the worker polls, so no server needs to be installed.
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
            "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS
        }
    return app
