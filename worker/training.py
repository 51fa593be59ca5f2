"""Runs one attempt of a training job: start it, train with core, write what
happens. worker/lease.py tells how a job outlives the worker that runs it."""

import hashlib
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from celery import Celery
from celery.exceptions import Reject, SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError

from core import ConfigError, DivergedError, EpochReport, FitConfig, dumps, fit
from core.diagnosis import GradientTrend
from core.errors import DataError
from persistence import jobs
from persistence.broker import GPU_QUEUE, send_run_job
from persistence.datasets import load_arrays
from persistence.db import session_scope
from persistence.models import JobStatus, TrainedModel, TrainingJob, utcnow
from persistence.settings import Settings, get_settings
from worker import shutdown
from worker.lease import Lease, lost_lease_reason
from worker.stopping import (
    CANCELLED,
    LEASE_LOST,
    SHUTDOWN,
    CheckpointPolicy,
    StopCheck,
)

log = structlog.get_logger(__name__)


class JobNotFoundError(LookupError):
    """A message named a job that is not in the database."""


@dataclass
class Started:
    """What a claimed attempt needs from the job's row."""

    attempt: int
    spec: dict[str, Any]
    dataset_ref: str | uuid.UUID
    queue: str


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_training(job_id: uuid.UUID, attempt: int, app: Celery) -> None:
    if shutdown.requested():
        # A stopping worker still receives for a moment (its consumer polls
        # the broker for up to 2 s); it hands each message back untouched.
        raise Reject("the worker is shutting down", requeue=True)
    settings = get_settings()
    started = _start(job_id, attempt, settings)
    if started is None:
        return
    structlog.contextvars.bind_contextvars(attempt=started.attempt)
    lease = Lease(job_id, started.attempt, settings.lease_timeout_seconds)
    try:
        with lease.kept_alive(), shutdown.training():
            _train(job_id, started, lease, settings, app)
    except SoftTimeLimitExceeded:
        limit = settings.job_time_limit_seconds
        _fail(
            job_id,
            started.attempt,
            f"the job ran past its time limit of {limit:g} s per attempt "
            "(DESCENT_JOB_TIME_LIMIT_SECONDS)",
        )


def _start(job_id: uuid.UUID, attempt: int, settings: Settings) -> Started | None:
    """Claim the job for this message's attempt, or take over its dead lease."""
    stale_before = utcnow() - timedelta(seconds=settings.lease_timeout_seconds)
    with session_scope() as session:
        job = jobs.get_job(session, job_id)
        if job is None:
            raise JobNotFoundError(f"job {job_id} does not exist")
        ref = job.dataset_id or job.builtin_dataset
        assert ref is not None
        started = Started(attempt, dict(job.spec), ref, job.queue)
        # `job` keeps the values read before these moves, which decide below.
        if jobs.claim(session, job_id, attempt, worker_id()):
            return started
        live = job.heartbeat_at is not None and job.heartbeat_at >= stale_before
        if job.status != JobStatus.RUNNING or job.attempt != attempt or live:
            log.info("job.skipped", reason=_not_ours(job, attempt))
            return None
        if job.lease_losses + 1 >= settings.max_attempts:
            reason = lost_lease_reason(job, settings)
            if jobs.finish(
                session, job_id, attempt, JobStatus.FAILED, reason, stale_before
            ):
                log.warning("job.failed", error=reason)
            return None
        if not jobs.take_over(session, job_id, attempt, worker_id(), stale_before):
            log.info("job.skipped", reason="another worker moved it first")
            return None
    log.warning("job.taken_over", dead_worker=job.worker_id, attempt=attempt + 1)
    started.attempt = attempt + 1
    return started


def _not_ours(job: TrainingJob, attempt: int) -> str:
    if job.status in JobStatus.FINISHED:
        return f"the job is {job.status}"
    if job.attempt != attempt:
        return f"the message is for attempt {attempt}; the job is at {job.attempt}"
    if job.status == JobStatus.RUNNING:
        return f"attempt {attempt} runs under a live lease ({job.worker_id})"
    return "another worker claimed it first"


def _resume_point(job_id: uuid.UUID) -> tuple[bytes | None, int, list[str]]:
    """The stored checkpoint to resume from, its epoch, and any warning."""
    with session_scope() as session:
        row = jobs.latest_checkpoint(session, job_id)
        if row is None:
            return None, 0, []
        blob, epoch, sha256 = row.data, row.epoch, row.sha256
    if hashlib.sha256(blob).hexdigest() != sha256:
        warning = f"the checkpoint of epoch {epoch} failed its sha256 check; "
        warning += "training started again from epoch 1"
        log.error("checkpoint.corrupt", epoch=epoch)
        return None, 0, [warning]
    log.info("job.resumed", from_epoch=epoch, checkpoint_bytes=len(blob))
    return blob, epoch, []


def _train(
    job_id: uuid.UUID, started: Started, lease: Lease, settings: Settings, app: Celery
) -> None:
    attempt, spec = started.attempt, started.spec
    if started.queue == GPU_QUEUE:
        spec["device"] = "gpu"
    log.info("job.started", epochs=spec["training"]["epochs"], worker=worker_id())
    began = time.monotonic()
    checkpoint, resume_epoch, pending_warnings = _resume_point(job_id)
    stop = StopCheck(
        job_id, lease, settings.cancel_poll_seconds, settings.shutdown_grace_seconds
    )
    policy = CheckpointPolicy(
        settings.checkpoint_every_epochs,
        settings.checkpoint_every_seconds,
        resume_epoch,
    )
    trend = GradientTrend()

    def on_epoch(report: EpochReport) -> bool:
        trend_warnings = [*pending_warnings, *trend.update(report.epoch, report.layers)]
        pending_warnings.clear()
        # The last epoch needs none: the model follows in a moment.
        last = report.epoch >= report.epochs
        stopping = shutdown.requested() and not last
        blob = None
        if stopping or (not last and policy.due(report.epoch)):
            blob = report.checkpoint()
        with session_scope() as session:
            ours = jobs.record_epoch(
                session,
                job_id,
                attempt,
                report.epoch,
                report.metrics,
                layers=report.layers,
                epoch_warnings=report.warnings,
                job_warnings=trend_warnings,
                checkpoint=blob,
            )
        if not ours:
            lease.give_up()
            stop.reason = LEASE_LOST
            return True
        lease.renewed()
        if blob is not None:
            policy.stored(report.epoch)
        for warning in trend_warnings:
            log.warning("job.warning", epoch=report.epoch, warning=warning)
        log.info(
            "epoch.finished",
            epoch=report.epoch,
            loss=report.metrics.get("loss"),
            val_loss=report.metrics.get("val_loss"),
            duration_s=round(report.duration_s, 4),
            checkpoint_bytes=None if blob is None else len(blob),
        )
        if stopping:
            stop.reason = SHUTDOWN
        return stopping

    try:
        with session_scope() as session:
            info, x, y = load_arrays(session, started.dataset_ref)
        config = FitConfig.from_dict(spec)
        result = fit(
            x, y, config, on_epoch=on_epoch, should_stop=stop, checkpoint=checkpoint
        )
    except SoftTimeLimitExceeded:
        raise
    except DivergedError as error:
        _fail(job_id, attempt, str(error))
        return
    except (ConfigError, DataError) as error:
        # The data or the spec cannot be used as given: the message says why.
        _fail(job_id, attempt, f"the data cannot be used as set up: {error}")
        return
    except OperationalError:
        # Nothing can be written now. The lease stops beating, and the reaper
        # resumes the job from its checkpoint once the database is back.
        log.exception("job.database_unreachable")
        return
    except Exception as error:
        log.exception("job.crashed")
        _fail(job_id, attempt, f"training failed: {type(error).__name__}: {error}")
        return

    if result.stopped:
        _stopped(job_id, started, stop.reason, app)
        return

    blob = dumps(result.model)
    final_metrics = jobs.json_safe(result.history[-1]) if result.history else None
    model = TrainedModel(
        job_id=job_id,
        task=info.task,
        features=info.features,
        classes=info.classes,
        spec=spec,
        metrics=final_metrics,
        test_metrics=(
            jobs.json_safe(result.test_metrics) if result.test_metrics else None
        ),
        confusion_matrix=result.confusion_matrix,
        weights=blob,
        weights_sha256=hashlib.sha256(blob).hexdigest(),
    )
    # The model, its weights and the job's success land in one transaction.
    with session_scope() as session:
        done = jobs.succeed(session, job_id, attempt, model)
    log.info(
        "job.succeeded" if done else "job.lost",
        duration_s=round(time.monotonic() - began, 3),
        weights_bytes=len(blob),
    )


def _stopped(
    job_id: uuid.UUID, started: Started, reason: str | None, app: Celery
) -> None:
    attempt = started.attempt
    if reason == SHUTDOWN:
        with session_scope() as session:
            requeued = jobs.requeue(session, job_id, attempt)
        if requeued:
            # Sent after the commit; if this process dies first, the reaper
            # finds the job queued without a message and sends it.
            send_run_job(app, str(job_id), attempt + 1, started.queue)
        log.info("job.requeued", requeued=requeued, next_attempt=attempt + 1)
    elif reason == CANCELLED:
        with session_scope() as session:
            cancelled = jobs.finish(session, job_id, attempt, JobStatus.CANCELLED)
        log.info("job.stopped", cancelled=cancelled)
    else:
        log.warning("job.abandoned", reason=reason or LEASE_LOST)


def _fail(job_id: uuid.UUID, attempt: int, reason: str) -> None:
    with session_scope() as session:
        jobs.finish(session, job_id, attempt, JobStatus.FAILED, error=reason)
    log.warning("job.failed", error=reason)
