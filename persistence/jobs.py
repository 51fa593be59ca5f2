"""Queries on training jobs. Every status move is a compare-and-set on
(id, status, attempt), so a late or duplicated message changes nothing."""

import math
import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from persistence.models import (
    EpochMetrics,
    JobStatus,
    TrainedModel,
    TrainingJob,
    utcnow,
)

# A job keeps its most recent warnings only, so its status stays small.
MAX_JOB_WARNINGS = 20


def json_safe(metrics: dict[str, Any]) -> dict[str, Any]:
    """Plain floats, with null for NaN and infinities (CASES C12)."""
    safe: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)
            safe[key] = value if math.isfinite(value) else None
        else:
            safe[key] = value
    return safe


def get_job(session: Session, job_id: uuid.UUID) -> TrainingJob | None:
    return session.get(TrainingJob, job_id)


def list_jobs(
    session: Session, limit: int, offset: int
) -> tuple[list[TrainingJob], int]:
    query = select(TrainingJob).order_by(
        TrainingJob.created_at.desc(), TrainingJob.id.desc()
    )
    jobs = list(session.scalars(query.limit(limit).offset(offset)))
    count = session.scalar(select(func.count()).select_from(TrainingJob)) or 0
    return jobs, count


def epoch_history(session: Session, job_id: uuid.UUID) -> list[EpochMetrics]:
    query = (
        select(EpochMetrics)
        .where(EpochMetrics.job_id == job_id)
        .order_by(EpochMetrics.attempt, EpochMetrics.epoch)
    )
    return list(session.scalars(query))


def model_for_job(session: Session, job_id: uuid.UUID) -> TrainedModel | None:
    return session.scalar(select(TrainedModel).where(TrainedModel.job_id == job_id))


def _move(
    session: Session,
    job_id: uuid.UUID,
    attempt: int,
    from_status: str,
    **values: Any,
) -> bool:
    statement = (
        update(TrainingJob)
        .where(
            TrainingJob.id == job_id,
            TrainingJob.status == from_status,
            TrainingJob.attempt == attempt,
        )
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1  # type: ignore[attr-defined]


def claim(session: Session, job_id: uuid.UUID, attempt: int, worker_id: str) -> bool:
    """Move a queued job to running under this worker's lease."""
    now = utcnow()
    return _move(
        session,
        job_id,
        attempt,
        JobStatus.QUEUED,
        status=JobStatus.RUNNING,
        worker_id=worker_id,
        heartbeat_at=now,
        started_at=now,
    )


def record_epoch(
    session: Session,
    job_id: uuid.UUID,
    attempt: int,
    epoch: int,
    metrics: dict[str, Any],
    layers: dict[str, dict[str, Any]] | None = None,
    epoch_warnings: list[str] | None = None,
    job_warnings: list[str] | None = None,
) -> bool:
    """Store one epoch; False when the job is no longer ours to run.

    ``epoch_warnings`` stay with the epoch's row; ``job_warnings`` are added
    to the job's status, where a client polling it sees them.
    """
    metrics = json_safe(metrics)
    values: dict[str, Any] = {
        "epoch": epoch,
        "metrics": metrics,
        "heartbeat_at": utcnow(),
    }
    if job_warnings:
        current = session.scalar(
            select(TrainingJob.warnings).where(TrainingJob.id == job_id)
        )
        values["warnings"] = [*(current or []), *job_warnings][-MAX_JOB_WARNINGS:]
    if not _move(session, job_id, attempt, JobStatus.RUNNING, **values):
        return False
    session.add(
        EpochMetrics(
            job_id=job_id,
            attempt=attempt,
            epoch=epoch,
            metrics=metrics,
            layers=(
                {name: json_safe(numbers) for name, numbers in layers.items()}
                if layers
                else None
            ),
            warnings=epoch_warnings or None,
        )
    )
    return True


def cancel_requested(session: Session, job_id: uuid.UUID, attempt: int) -> bool:
    row = session.execute(
        select(
            TrainingJob.status, TrainingJob.attempt, TrainingJob.cancel_requested
        ).where(TrainingJob.id == job_id)
    ).one_or_none()
    if row is None:
        return True
    status, current_attempt, flag = row
    return bool(flag) or status != JobStatus.RUNNING or current_attempt != attempt


def finish(
    session: Session,
    job_id: uuid.UUID,
    attempt: int,
    status: str,
    error: str | None = None,
) -> bool:
    """Move a running job to failed or cancelled."""
    return _move(
        session,
        job_id,
        attempt,
        JobStatus.RUNNING,
        status=status,
        error=error,
        finished_at=utcnow(),
    )


def succeed(
    session: Session, job_id: uuid.UUID, attempt: int, model: TrainedModel
) -> bool:
    """Mark the job succeeded and add its model in the caller's transaction."""
    if not _move(
        session,
        job_id,
        attempt,
        JobStatus.RUNNING,
        status=JobStatus.SUCCEEDED,
        finished_at=utcnow(),
    ):
        return False
    session.add(model)
    return True


def request_cancel(session: Session, job: TrainingJob) -> None:
    """Cancel a queued job at once; ask the worker to stop a running one."""
    if job.status == JobStatus.QUEUED and _move(
        session,
        job.id,
        job.attempt,
        JobStatus.QUEUED,
        status=JobStatus.CANCELLED,
        finished_at=utcnow(),
        cancel_requested=True,
    ):
        return
    session.execute(
        update(TrainingJob)
        .where(TrainingJob.id == job.id, TrainingJob.status == JobStatus.RUNNING)
        .values(cancel_requested=True, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
