"""The reaper (worker/reaper.py): dead leases are requeued from their
checkpoint or failed with a reason; queued jobs whose message was lost are
sent again, once."""

from datetime import timedelta

from celery import Celery

from persistence import jobs
from persistence.broker import send_run_job
from persistence.db import session_scope
from persistence.models import utcnow
from persistence.settings import get_settings
from tests.worker.conftest import (
    WORKER,
    add_job,
    age_heartbeat,
    row,
    running_job,
    sent_messages,
)
from worker.reaper import Reaper


def reaper(broker: Celery) -> Reaper:
    return Reaper(broker, get_settings())


class TestDeadLeases:
    def test_requeue_the_job_from_its_checkpoint_and_send_it(
        self, db: str, broker: Celery
    ) -> None:
        job_id = running_job()
        with session_scope() as session:
            jobs.record_epoch(session, job_id, 1, 1, {"loss": 1.0}, checkpoint=b"1")
            jobs.record_epoch(session, job_id, 1, 2, {"loss": 0.5})
        age_heartbeat(job_id)
        reaper(broker).run_once()
        job = row(job_id)
        assert (job.status, job.attempt, job.epoch, job.lease_losses) == (
            "queued",
            2,
            1,
            1,
        )
        assert sent_messages() == [(str(job_id), 2)]

    def test_leave_a_live_lease_alone(self, db: str, broker: Celery) -> None:
        job_id = running_job(heartbeat_age_s=5)
        reaper(broker).run_once()
        assert row(job_id).status == "running"
        assert sent_messages() == []

    def test_fail_the_job_after_max_attempts_with_a_reason(
        self, db: str, broker: Celery
    ) -> None:
        job_id = running_job(attempt=3, heartbeat_age_s=120, lease_losses=2)
        reaper(broker).run_once()
        job = row(job_id)
        assert job.status == "failed" and job.finished_at is not None
        assert WORKER in (job.error or "") and "DESCENT_MAX_ATTEMPTS is 3" in (
            job.error or ""
        )
        assert sent_messages() == []

    def test_cancel_a_dead_job_its_client_asked_to_cancel(
        self, db: str, broker: Celery
    ) -> None:
        job_id = running_job(heartbeat_age_s=120, cancel_requested=True)
        reaper(broker).run_once()
        assert row(job_id).status == "cancelled"
        assert sent_messages() == []


class TestLostMessages:
    def test_resend_a_job_queued_long_with_an_empty_queue_once(
        self, db: str, broker: Celery
    ) -> None:
        job_id = add_job(updated_at=utcnow() - timedelta(minutes=5))
        reaper(broker).run_once()
        assert sent_messages() == [(str(job_id), 1)]
        reaper(broker).run_once()
        assert sent_messages() == [(str(job_id), 1)]

    def test_wait_while_the_queue_holds_messages(self, db: str, broker: Celery) -> None:
        # Its own message may be among those waiting: re-sending would only
        # pile up duplicates behind a busy worker.
        job_id = add_job(updated_at=utcnow() - timedelta(minutes=5))
        other = add_job()
        send_run_job(broker, str(other), 1, "cpu")
        reaper(broker).run_once()
        assert sent_messages() == [(str(other), 1)]
        assert row(job_id).status == "queued"

    def test_leave_a_recently_queued_job_alone(self, db: str, broker: Celery) -> None:
        add_job()
        reaper(broker).run_once()
        assert sent_messages() == []
