"""Queries on training jobs. Every status move is a compare-and-set on
(id, status, attempt), so a late or duplicated message changes nothing.

The attempt is also the lease's fencing token: taking over a dead lease or
requeueing a job bumps it, and from then on every write of the old attempt
(an epoch, a checkpoint, a heartbeat, the result) matches no row. worker/lease.py
tells the whole story.
"""

import hashlib
import math
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session, undefer

from persistence.models import (
    Checkpoint,
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
    session: Session, limit: int, offset: int, tenant_id: uuid.UUID | None = None
) -> tuple[list[TrainingJob], int]:
    query = select(TrainingJob).order_by(
        TrainingJob.created_at.desc(), TrainingJob.id.desc()
    )
    counting = select(func.count()).select_from(TrainingJob)
    if tenant_id is not None:
        query = query.where(TrainingJob.tenant_id == tenant_id)
        counting = counting.where(TrainingJob.tenant_id == tenant_id)
    jobs = list(session.scalars(query.limit(limit).offset(offset)))
    return jobs, session.scalar(counting) or 0


def tenant_job(
    session: Session, job_id: uuid.UUID, tenant_id: uuid.UUID
) -> TrainingJob | None:
    """The job, if it belongs to the tenant; another tenant's is not there."""
    job = session.get(TrainingJob, job_id)
    return job if job is not None and job.tenant_id == tenant_id else None


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
    /,
    *conditions: ColumnElement[bool],
    **values: Any,
) -> bool:
    # Positional-only, so that ``attempt=`` among the values sets a new one.
    statement = (
        update(TrainingJob)
        .where(
            TrainingJob.id == job_id,
            TrainingJob.status == from_status,
            TrainingJob.attempt == attempt,
            *conditions,
        )
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1  # type: ignore[attr-defined]


def _stale(stale_before: datetime) -> ColumnElement[bool]:
    return or_(
        TrainingJob.heartbeat_at.is_(None), TrainingJob.heartbeat_at < stale_before
    )


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
        # A resumed job keeps the time it first started.
        started_at=func.coalesce(TrainingJob.started_at, now),
    )


def take_over(
    session: Session,
    job_id: uuid.UUID,
    attempt: int,
    worker_id: str,
    stale_before: datetime,
) -> bool:
    """Run a job whose lease stopped beating before ``stale_before`` as its next
    attempt, under this worker's lease, counting the lost one."""
    return _move(
        session,
        job_id,
        attempt,
        JobStatus.RUNNING,
        _stale(stale_before),
        attempt=attempt + 1,
        lease_losses=TrainingJob.lease_losses + 1,
        worker_id=worker_id,
        heartbeat_at=utcnow(),
    )


def renew(session: Session, job_id: uuid.UUID, attempt: int) -> bool:
    """Refresh this attempt's lease; False once the job is no longer its own."""
    return _move(session, job_id, attempt, JobStatus.RUNNING, heartbeat_at=utcnow())


def lease_state(session: Session, job_id: uuid.UUID, attempt: int) -> tuple[bool, bool]:
    """Whether this attempt still holds the job, and whether a client asked it
    to stop."""
    row = session.execute(
        select(
            TrainingJob.status, TrainingJob.attempt, TrainingJob.cancel_requested
        ).where(TrainingJob.id == job_id)
    ).one_or_none()
    if row is None:
        return False, False
    status, current_attempt, flag = row
    return status == JobStatus.RUNNING and current_attempt == attempt, bool(flag)


def record_epoch(
    session: Session,
    job_id: uuid.UUID,
    attempt: int,
    epoch: int,
    metrics: dict[str, Any],
    layers: dict[str, dict[str, Any]] | None = None,
    epoch_warnings: list[str] | None = None,
    job_warnings: list[str] | None = None,
    checkpoint: bytes | None = None,
) -> bool:
    """Store one epoch, and its checkpoint if one is given; False when the job
    is no longer ours to run. Writing it renews the lease.

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
    if checkpoint is not None:
        # The row lock the move above holds keeps a stale attempt from
        # writing here in between: one checkpoint per job, always the newest.
        session.execute(delete(Checkpoint).where(Checkpoint.job_id == job_id))
        session.add(
            Checkpoint(
                job_id=job_id,
                attempt=attempt,
                epoch=epoch,
                data=checkpoint,
                sha256=hashlib.sha256(checkpoint).hexdigest(),
                size_bytes=len(checkpoint),
            )
        )
    return True


def latest_checkpoint(session: Session, job_id: uuid.UUID) -> Checkpoint | None:
    return session.scalar(
        select(Checkpoint)
        .where(Checkpoint.job_id == job_id)
        .options(undefer(Checkpoint.data))
    )


def requeue(
    session: Session,
    job_id: uuid.UUID,
    attempt: int,
    stale_before: datetime | None = None,
) -> bool:
    """Move a running job back to queued as its next attempt, to resume from
    its checkpoint; the caller sends that attempt's message after commit.

    The worker that stops on SIGTERM passes no ``stale_before``. The reaper
    passes it: then only a lease that stopped beating before it moves, and
    the loss counts towards DESCENT_MAX_ATTEMPTS.
    """
    conditions = []
    values: dict[str, Any] = {}
    if stale_before is not None:
        conditions.append(_stale(stale_before))
        values["lease_losses"] = TrainingJob.lease_losses + 1
    resume_epoch = (
        select(Checkpoint.epoch).where(Checkpoint.job_id == job_id).scalar_subquery()
    )
    return _move(
        session,
        job_id,
        attempt,
        JobStatus.RUNNING,
        *conditions,
        status=JobStatus.QUEUED,
        attempt=attempt + 1,
        worker_id=None,
        heartbeat_at=None,
        # Progress goes back to what the checkpoint holds.
        epoch=func.coalesce(resume_epoch, 0),
        **values,
    )


def finish(
    session: Session,
    job_id: uuid.UUID,
    attempt: int,
    status: str,
    error: str | None = None,
    stale_before: datetime | None = None,
) -> bool:
    """Move a running job to failed or cancelled (the reaper: only if its lease
    stopped beating before ``stale_before``)."""
    conditions = []
    if stale_before is not None:
        conditions.append(_stale(stale_before))
    moved = _move(
        session,
        job_id,
        attempt,
        JobStatus.RUNNING,
        *conditions,
        status=status,
        error=error,
        finished_at=utcnow(),
    )
    if moved:
        _drop_checkpoint(session, job_id)
    return moved


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
    # The model belongs to whoever owns the job.
    model.tenant_id = session.scalar(
        select(TrainingJob.tenant_id).where(TrainingJob.id == job_id)
    )
    session.add(model)
    _drop_checkpoint(session, job_id)
    return True


def _drop_checkpoint(session: Session, job_id: uuid.UUID) -> None:
    # A finished job never resumes; its checkpoint would only take space.
    session.execute(delete(Checkpoint).where(Checkpoint.job_id == job_id))


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


def stale_leases(session: Session, stale_before: datetime) -> list[TrainingJob]:
    """Running jobs whose lease stopped beating before ``stale_before``."""
    query = select(TrainingJob).where(
        TrainingJob.status == JobStatus.RUNNING,
        _stale(stale_before),
    )
    return list(session.scalars(query))


def unsent(session: Session, queued_before: datetime) -> list[TrainingJob]:
    """Jobs queued (or last sent) before ``queued_before``."""
    query = select(TrainingJob).where(
        TrainingJob.status == JobStatus.QUEUED,
        TrainingJob.updated_at < queued_before,
    )
    return list(session.scalars(query))


def mark_resent(
    session: Session, job_id: uuid.UUID, attempt: int, queued_before: datetime
) -> bool:
    """Claim the re-send of a queued job, so that of several reapers one sends;
    it restarts the job's wait before the next re-send."""
    return _move(
        session,
        job_id,
        attempt,
        JobStatus.QUEUED,
        TrainingJob.updated_at < queued_before,
    )
