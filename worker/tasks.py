"""Celery tasks. Each takes ids only and re-reads the database, so a message
delivered twice or late is harmless (DESIGN.md: the database is the record)."""

import uuid

import structlog

from persistence.broker import RUN_JOB_TASK, time_limits
from persistence.settings import get_settings
from worker.app import app
from worker.training import run_training

log = structlog.get_logger(__name__)

# Per attempt. The soft limit raises inside training, which fails the job
# with a reason naming the limit; the hard one kills a process stuck in C.
SOFT_TIME_LIMIT_SECONDS, TIME_LIMIT_SECONDS = time_limits(get_settings())


@app.task(
    name=RUN_JOB_TASK,
    ignore_result=True,
    acks_late=True,
    soft_time_limit=SOFT_TIME_LIMIT_SECONDS,
    time_limit=TIME_LIMIT_SECONDS,
)
def run_job(job_id: str, attempt: int) -> None:
    """Train one job, if this message's attempt may still run it."""
    structlog.contextvars.bind_contextvars(job_id=job_id, attempt=attempt)
    try:
        run_training(uuid.UUID(job_id), int(attempt), app)
    finally:
        structlog.contextvars.clear_contextvars()
