"""The worker's Celery application: ``celery -A worker.app worker -Q cpu``."""

import structlog
from celery.signals import worker_init, worker_process_init

from core import fused
from persistence.broker import make_celery
from persistence.db import dispose_engines
from persistence.logs import configure_logging

# Imported here, in the main process, so that its shared flag exists before
# the pool forks.
from worker import shutdown  # noqa: F401

log = structlog.get_logger(__name__)

configure_logging()
app = make_celery()
app.conf.include = ["worker.tasks", "worker.heartbeat", "worker.reaper"]


@worker_process_init.connect
def _fresh_engine_per_child(**_: object) -> None:
    # A pool inherited over fork shares sockets with the parent (CASES C10).
    dispose_engines()


@worker_init.connect
def _compile_training_loops(**_: object) -> None:
    # Before the pool forks, so that each pool process inherits the compiled
    # loops and no job's first epoch includes compiling them (core.fused).
    seconds = fused.warm_up(training=True, inference=False)
    log.info("worker.loops_compiled", duration_s=round(seconds, 2))
