"""Celery tasks. Each takes ids only and re-reads the database, so a message
delivered twice or late is harmless (DESIGN.md: the database is the record)."""

import uuid

import structlog

from persistence.broker import RUN_JOB_TASK
from worker.app import app
from worker.training import run_training

log = structlog.get_logger(__name__)


@app.task(name=RUN_JOB_TASK, ignore_result=True, acks_late=True)
def run_job(job_id: str, attempt: int) -> None:
    """Train one job, if its row is still queued for this attempt."""
    structlog.contextvars.bind_contextvars(job_id=job_id, attempt=attempt)
    try:
        run_training(uuid.UUID(job_id), int(attempt))
    finally:
        structlog.contextvars.clear_contextvars()
