"""The worker's Celery application: ``celery -A worker.app worker -Q cpu``."""

from celery.signals import worker_process_init

from persistence.broker import make_celery
from persistence.db import dispose_engines
from persistence.logs import configure_logging

# Imported here, in the main process, so that its shared flag exists before
# the pool forks.
from worker import shutdown  # noqa: F401

configure_logging()
app = make_celery()
app.conf.include = ["worker.tasks", "worker.heartbeat", "worker.reaper"]


@worker_process_init.connect
def _fresh_engine_per_child(**_: object) -> None:
    # A pool inherited over fork shares sockets with the parent (CASES C10).
    dispose_engines()
