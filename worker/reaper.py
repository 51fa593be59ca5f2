"""The reaper: a thread in every worker's main process, every
DESCENT_REAPER_INTERVAL_SECONDS, that leaves no job behind.

(a) A running job whose lease has not beaten for DESCENT_LEASE_TIMEOUT_SECONDS
lost its worker (SIGKILL, the OOM killer, a machine gone). The reaper
requeues it as its next attempt, to resume from its checkpoint, and sends
that attempt's message; after DESCENT_MAX_ATTEMPTS lost leases it fails the
job with a reason instead, and a job whose client asked to cancel it is
cancelled.

(b) A job queued for DESCENT_RESEND_AFTER_SECONDS while its broker queue is
empty has no message (the API or a worker died between commit and send, or a
worker died between receiving the message and claiming the job): the reaper
sends it again. While the queue holds messages, this job's may be among them,
and re-sending could only pile up duplicates; it waits for the queue to drain.

Each move is a compare-and-set on the job's row, so any number of workers may
reap at once: one of them moves a job, and only that one sends its message.
A stray duplicate message is harmless anyway (worker/lease.py).
"""

import threading
from datetime import timedelta

import structlog
from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from persistence import jobs
from persistence.broker import make_celery, queue_depth, send_run_job
from persistence.db import session_scope
from persistence.models import JobStatus, utcnow
from persistence.settings import Settings, get_settings
from worker.lease import lost_lease_reason

log = structlog.get_logger(__name__)

_stop = threading.Event()


class Reaper:
    def __init__(self, app: Celery, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def run_once(self) -> None:
        self.reap_dead_leases()
        self.resend_lost_messages()

    def reap_dead_leases(self) -> None:
        settings = self.settings
        stale_before = utcnow() - timedelta(seconds=settings.lease_timeout_seconds)
        with session_scope() as session:
            stale = jobs.stale_leases(session, stale_before)
        for job in stale:
            fields = {"job_id": str(job.id), "attempt": job.attempt}
            with session_scope() as session:
                if job.cancel_requested:
                    verdict, error = JobStatus.CANCELLED, None
                elif job.lease_losses + 1 >= settings.max_attempts:
                    verdict, error = JobStatus.FAILED, lost_lease_reason(job, settings)
                else:
                    verdict = error = None
                if verdict is None:
                    moved = jobs.requeue(session, job.id, job.attempt, stale_before)
                else:
                    moved = jobs.finish(
                        session, job.id, job.attempt, verdict, error, stale_before
                    )
            if not moved:
                continue  # renewed just now, or another reaper was first
            if verdict is None:
                log.warning("job.requeued", **fields, dead_worker=job.worker_id)
                send_run_job(self.app, str(job.id), job.attempt + 1, job.queue)
            else:
                log.warning("job.reaped", **fields, status=verdict, error=error)

    def resend_lost_messages(self) -> None:
        waited = timedelta(seconds=self.settings.resend_after_seconds)
        queued_before = utcnow() - waited
        with session_scope() as session:
            waiting = jobs.unsent(session, queued_before)
        depths: dict[str, int] = {}
        for job in waiting:
            if job.queue not in depths:
                depths[job.queue] = queue_depth(self.app, job.queue)
            if depths[job.queue]:
                continue
            with session_scope() as session:
                ours = jobs.mark_resent(session, job.id, job.attempt, queued_before)
            if ours:
                log.warning("job.resent", job_id=str(job.id), attempt=job.attempt)
                send_run_job(self.app, str(job.id), job.attempt, job.queue)


def _reap_forever(reaper: Reaper) -> None:
    while not _stop.wait(reaper.settings.reaper_interval_seconds):
        try:
            reaper.run_once()
        except Exception:
            # A database or broker outage must not end the reaper.
            log.warning("reaper.failed", exc_info=True)


@worker_ready.connect
def _start(**_: object) -> None:
    # Its own Celery app: its own broker connections, apart from the consumer's.
    reaper = Reaper(make_celery(), get_settings())
    threading.Thread(
        target=_reap_forever, args=(reaper,), daemon=True, name="reaper"
    ).start()


@worker_shutdown.connect
def _leave(**_: object) -> None:
    _stop.set()
