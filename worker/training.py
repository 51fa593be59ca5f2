"""Runs one training job: claim it, train with core, write what happens."""

import hashlib
import os
import socket
import time
import uuid
from typing import Any

import structlog

from core import DivergedError, EpochReport, FitConfig, dumps, fit
from core.diagnosis import GradientTrend
from persistence import jobs
from persistence.broker import GPU_QUEUE
from persistence.datasets import load_arrays
from persistence.db import session_scope
from persistence.models import JobStatus, TrainedModel
from persistence.settings import get_settings

log = structlog.get_logger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class _CancelPoll:
    """Reads the job's cancel flag between batches, at most every few tenths
    of a second, so a 2,000-epoch job stops within a second of the request."""

    def __init__(self, job_id: uuid.UUID, attempt: int, interval_s: float) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.interval_s = interval_s
        self.next_check = 0.0
        self.stop = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if self.stop or now < self.next_check:
            return self.stop
        self.next_check = now + self.interval_s
        with session_scope() as session:
            self.stop = jobs.cancel_requested(session, self.job_id, self.attempt)
        return self.stop


def run_training(job_id: uuid.UUID, attempt: int) -> None:
    with session_scope() as session:
        if not jobs.claim(session, job_id, attempt, worker_id()):
            log.info("job.skipped", reason="not queued for this attempt")
            return
        job = jobs.get_job(session, job_id)
        assert job is not None
        spec: dict[str, Any] = dict(job.spec)
        if job.queue == GPU_QUEUE:
            spec["device"] = "gpu"
        dataset_ref = job.dataset_id or job.builtin_dataset
        assert dataset_ref is not None
    log.info("job.started", epochs=spec["training"]["epochs"])
    started = time.monotonic()

    trend = GradientTrend()

    def on_epoch(report: EpochReport) -> bool:
        trend_warnings = trend.update(report.epoch, report.layers)
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
            )
        for warning in trend_warnings:
            log.warning("job.warning", epoch=report.epoch, warning=warning)
        log.info(
            "epoch.finished",
            epoch=report.epoch,
            loss=report.metrics.get("loss"),
            val_loss=report.metrics.get("val_loss"),
            duration_s=round(report.duration_s, 4),
        )
        return not ours

    poll = _CancelPoll(job_id, attempt, get_settings().cancel_poll_seconds)
    try:
        with session_scope() as session:
            info, x, y = load_arrays(session, dataset_ref)
        config = FitConfig.from_dict(spec)
        result = fit(x, y, config, on_epoch=on_epoch, should_stop=poll)
    except DivergedError as error:
        _fail(job_id, attempt, str(error))
        return
    except Exception as error:
        log.exception("job.crashed")
        _fail(job_id, attempt, f"training failed: {type(error).__name__}: {error}")
        return

    if result.stopped:
        with session_scope() as session:
            cancelled = jobs.finish(session, job_id, attempt, JobStatus.CANCELLED)
        log.info("job.stopped", cancelled=cancelled, epochs_run=result.epochs_run)
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
        duration_s=round(time.monotonic() - started, 3),
        weights_bytes=len(blob),
    )


def _fail(job_id: uuid.UUID, attempt: int, reason: str) -> None:
    with session_scope() as session:
        jobs.finish(session, job_id, attempt, JobStatus.FAILED, error=reason)
    log.warning("job.failed", error=reason)
