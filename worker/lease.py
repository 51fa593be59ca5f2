"""A worker's lease on a job, and how a job outlives the worker that holds it.

Every move is one compare-and-set on the job's row (persistence/jobs.py):

    claim      queued@N  -> running@N    lease = (this process, now)
    renew      running@N -> running@N    heartbeat = now
    take over  running@N, heartbeat older than the lease timeout
                         -> running@N+1  lease = (this process, now), loss + 1
    requeue    running@N -> queued@N+1   then a message for N+1, after commit
    finish     running@N -> succeeded | failed | cancelled

A message (job, N) trains only through claim or take over. Everything else
turns it away and it is acknowledged: a finished job, another attempt (an old
message, or one the reaper has replaced), or a running job whose lease is
alive (a duplicate, or a redelivery while the holder still trains). The
attempt is the fencing token: once a take over or a requeue made it N+1, no
write of attempt N (an epoch, a checkpoint, a heartbeat, the result) matches
the row any more, so a holder that was only slow learns at its next write
that the job is not its own and stops. Two trainings never both write.

The holder renews its lease with every epoch it records, from the stop check
between mini-batches, and from a background thread for long epochs, four
times per DESCENT_LEASE_TIMEOUT_SECONDS; it stops when a renewal finds the row
moved on.

After a crash. A SIGKILLed pool process leaves its job running under a lease
that no longer beats, and its message comes back: at once when the pool's
main process rejects it with requeue (task_reject_on_worker_lost), after the
visibility timeout when Redis restores it from a worker that died whole, and
never on the embedded folder broker when the whole worker died (a message
file is deleted on receipt). Recovery does not wait on any of these:

- the reaper in every worker (worker/reaper.py) requeues a job whose lease is
  stale as attempt N+1 with a new message, resuming from its checkpoint, or
  fails it with a reason after DESCENT_MAX_ATTEMPTS lost leases;
- a message for attempt N that arrives once the lease is stale takes the job
  over itself, with the same bound.

Both are compare-and-sets on the same row, so exactly one of them wins, and
the other's message is then for an old attempt. A message back at once, while
the dead lease still looks alive, is turned away; the reaper then moves the
job within a lease timeout plus a reaper interval.

Leases compare the clocks of different machines: the lease timeout must be
far larger than their skew, which NTP keeps to milliseconds.
"""

import contextvars
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from sqlalchemy.exc import SQLAlchemyError

from persistence import jobs
from persistence.db import session_scope
from persistence.models import TrainingJob
from persistence.settings import Settings

log = structlog.get_logger(__name__)

# Renewals per lease timeout: a lease outlives three failed renewals in a row.
RENEWALS_PER_TIMEOUT = 4


def lost_lease_reason(job: TrainingJob, settings: Settings) -> str:
    losses = job.lease_losses + 1
    return (
        f"the job's worker stopped renewing its lease {losses} times, the last "
        f"{job.worker_id or 'unknown'} (no heartbeat for "
        f"{settings.lease_timeout_seconds:g} s); DESCENT_MAX_ATTEMPTS is "
        f"{settings.max_attempts}"
    )


class Lease:
    """This process's hold on one attempt of one job."""

    def __init__(self, job_id: uuid.UUID, attempt: int, timeout_s: float) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.every_s = timeout_s / RENEWALS_PER_TIMEOUT
        self.renewed_at = time.monotonic()
        self.lost = threading.Event()
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def renewed(self) -> None:
        """An epoch's write renewed the lease."""
        self.renewed_at = time.monotonic()

    def give_up(self) -> None:
        """A write found the row moved on: the job is no longer ours."""
        if not self.lost.is_set():
            self.lost.set()
            log.warning("lease.lost")

    def renew_if_due(self) -> bool:
        """Renew once a quarter of the timeout has passed; False once lost."""
        if self.lost.is_set():
            return False
        if time.monotonic() - self.renewed_at < self.every_s:
            return True
        with self._lock:
            if time.monotonic() - self.renewed_at < self.every_s:
                return not self.lost.is_set()
            try:
                with session_scope() as session:
                    held = jobs.renew(session, self.job_id, self.attempt)
            except SQLAlchemyError:
                # The database is away: keep training. If it stays away past
                # the timeout, the reaper requeues the job and our next write
                # finds the row moved on.
                log.warning("lease.renew_failed", exc_info=True)
                return True
            if held:
                self.renewed_at = time.monotonic()
            else:
                self.give_up()
            return held

    @contextmanager
    def kept_alive(self) -> Iterator["Lease"]:
        """Renew from a background thread while the block runs."""
        context = contextvars.copy_context()  # keeps the job's log fields
        thread = threading.Thread(
            target=context.run, args=(self._beat,), daemon=True, name="lease"
        )
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.every_s / 2):
            if not self.renew_if_due():
                return
