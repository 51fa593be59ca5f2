"""When training stops early, and when it stores a checkpoint.

``StopCheck`` is core.fit's ``should_stop``, asked before every mini-batch. It
stops for a client's cancel, for a lease that is no longer ours, or for the
worker's shutdown (after DESCENT_SHUTDOWN_GRACE_SECONDS, unless the epoch ends
first and stores its checkpoint). ``CheckpointPolicy`` says which epochs store
one: every DESCENT_CHECKPOINT_EVERY_EPOCHS epochs or
DESCENT_CHECKPOINT_EVERY_SECONDS seconds, whichever comes first.
"""

import time
import uuid

import structlog
from sqlalchemy.exc import SQLAlchemyError

from persistence import jobs
from persistence.db import session_scope
from worker import shutdown
from worker.lease import Lease

log = structlog.get_logger(__name__)

CANCELLED = "cancelled"
LEASE_LOST = "lease lost"
SHUTDOWN = "worker shutting down"


class StopCheck:
    """Says whether to stop, and why in ``reason``; cheap between polls."""

    def __init__(
        self, job_id: uuid.UUID, lease: Lease, poll_s: float, grace_s: float
    ) -> None:
        self.job_id = job_id
        self.lease = lease
        self.poll_s = poll_s
        self.grace_s = grace_s
        self.reason: str | None = None
        self.next_poll = 0.0
        self.shutdown_since: float | None = None

    def __call__(self) -> bool:
        if self.reason is not None:
            return True
        now = time.monotonic()
        if shutdown.requested():
            if self.shutdown_since is None:
                self.shutdown_since = now
                log.info("job.stopping", reason=SHUTDOWN, grace_s=self.grace_s)
            if now - self.shutdown_since >= self.grace_s:
                self.reason = SHUTDOWN
                return True
        if not self.lease.renew_if_due():
            self.reason = LEASE_LOST
        elif now >= self.next_poll:
            self.next_poll = now + self.poll_s
            self._poll()
        return self.reason is not None

    def _poll(self) -> None:
        try:
            with session_scope() as session:
                ours, cancel = jobs.lease_state(
                    session, self.job_id, self.lease.attempt
                )
        except SQLAlchemyError:
            # No news is not a reason to stop; the lease decides in time.
            log.warning("job.poll_failed", exc_info=True)
            return
        if not ours:
            self.lease.give_up()
            self.reason = LEASE_LOST
        elif cancel:
            self.reason = CANCELLED


class CheckpointPolicy:
    """Which finished epochs store a checkpoint."""

    def __init__(self, every_epochs: int, every_s: float, epoch: int) -> None:
        self.every_epochs = every_epochs
        self.every_s = every_s
        self.epoch = epoch
        self.at = time.monotonic()

    def due(self, epoch: int) -> bool:
        return (
            epoch - self.epoch >= self.every_epochs
            or time.monotonic() - self.at >= self.every_s
        )

    def stored(self, epoch: int) -> None:
        self.epoch = epoch
        self.at = time.monotonic()
