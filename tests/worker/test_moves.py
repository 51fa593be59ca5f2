"""The compare-and-set moves of a job's life (persistence/jobs.py), on SQLite
and PostgreSQL: each succeeds for exactly one caller, and the attempt fences
off every write of an attempt that is no longer the job's."""

import hashlib
import threading
import uuid
from datetime import timedelta

from persistence import jobs
from persistence.db import session_scope
from persistence.models import JobStatus, TrainedModel, utcnow
from tests.worker.conftest import OTHER_WORKER, WORKER, add_job, row, running_job

LEASE = timedelta(seconds=30)


def stale_before() -> object:
    return utcnow() - LEASE


def record(  # type: ignore[no-untyped-def]
    job_id: uuid.UUID, attempt: int, epoch: int, blob: bytes | None = None
):
    with session_scope() as session:
        return jobs.record_epoch(
            session, job_id, attempt, epoch, {"loss": 1.0 / epoch}, checkpoint=blob
        )


class TestClaim:
    def test_moves_a_queued_job_to_running_under_its_lease(self, db: str) -> None:
        job_id = add_job()
        with session_scope() as session:
            assert jobs.claim(session, job_id, 1, WORKER)
        job = row(job_id)
        assert (job.status, job.attempt, job.worker_id) == ("running", 1, WORKER)
        assert job.heartbeat_at is not None and job.started_at is not None

    def test_a_duplicate_message_finds_the_job_taken(self, db: str) -> None:
        job_id = add_job()
        with session_scope() as session:
            assert jobs.claim(session, job_id, 1, WORKER)
        with session_scope() as session:
            assert not jobs.claim(session, job_id, 1, OTHER_WORKER)
        assert row(job_id).worker_id == WORKER

    def test_a_message_for_an_old_attempt_changes_nothing(self, db: str) -> None:
        job_id = add_job(attempt=3)
        with session_scope() as session:
            assert not jobs.claim(session, job_id, 2, WORKER)
        assert row(job_id).status == "queued"

    def test_a_resumed_job_keeps_its_first_start(self, db: str) -> None:
        first = utcnow() - timedelta(hours=1)
        job_id = add_job(attempt=2, started_at=first)
        with session_scope() as session:
            assert jobs.claim(session, job_id, 2, WORKER)
        assert row(job_id).started_at == first


class TestRenew:
    def test_refreshes_the_heartbeat(self, db: str) -> None:
        job_id = running_job(heartbeat_age_s=20)
        with session_scope() as session:
            assert jobs.renew(session, job_id, 1)
        assert utcnow() - row(job_id).heartbeat_at < timedelta(seconds=5)  # type: ignore[operator]

    def test_fails_once_the_job_is_another_attempts(self, db: str) -> None:
        job_id = running_job(attempt=2)
        with session_scope() as session:
            assert not jobs.renew(session, job_id, 1)


class TestTakeOver:
    def test_takes_a_stale_lease_as_the_next_attempt(self, db: str) -> None:
        job_id = running_job(heartbeat_age_s=60)
        with session_scope() as session:
            assert jobs.take_over(session, job_id, 1, OTHER_WORKER, stale_before())
        job = row(job_id)
        assert (job.status, job.attempt, job.worker_id) == ("running", 2, OTHER_WORKER)
        assert job.lease_losses == 1

    def test_refuses_a_live_lease(self, db: str) -> None:
        job_id = running_job(heartbeat_age_s=5)
        with session_scope() as session:
            assert not jobs.take_over(session, job_id, 1, OTHER_WORKER, stale_before())
        assert row(job_id).worker_id == WORKER

    def test_refuses_a_message_for_an_old_attempt(self, db: str) -> None:
        job_id = running_job(attempt=2, heartbeat_age_s=60)
        with session_scope() as session:
            assert not jobs.take_over(session, job_id, 1, OTHER_WORKER, stale_before())

    def test_fences_off_the_old_holder(self, db: str) -> None:
        # A holder that was only slow cannot write an epoch, a checkpoint, a
        # heartbeat or a result once its attempt is not the job's.
        job_id = running_job(heartbeat_age_s=60)
        with session_scope() as session:
            assert jobs.take_over(session, job_id, 1, OTHER_WORKER, stale_before())
        assert not record(job_id, 1, epoch=4, blob=b"old")
        with session_scope() as session:
            assert not jobs.renew(session, job_id, 1)
            model = TrainedModel(
                job_id=job_id,
                task="classification",
                features=[],
                spec={},
                weights=b"",
                weights_sha256="",
            )
            assert not jobs.succeed(session, job_id, 1, model)
        assert jobs_history(job_id) == []
        with session_scope() as session:
            assert jobs.latest_checkpoint(session, job_id) is None


def jobs_history(job_id: uuid.UUID) -> list[tuple[int, int]]:
    with session_scope() as session:
        return [(r.attempt, r.epoch) for r in jobs.epoch_history(session, job_id)]


class TestRecordEpoch:
    def test_writes_the_checkpoint_with_its_epoch_and_replaces_it(
        self, db: str
    ) -> None:
        job_id = running_job()
        assert record(job_id, 1, epoch=1, blob=b"first")
        assert record(job_id, 1, epoch=2)
        assert record(job_id, 1, epoch=3, blob=b"third")
        with session_scope() as session:
            checkpoint = jobs.latest_checkpoint(session, job_id)
            assert checkpoint is not None
            assert (checkpoint.attempt, checkpoint.epoch) == (1, 3)
            assert checkpoint.data == b"third" and checkpoint.size_bytes == 5
            assert checkpoint.sha256 == hashlib.sha256(b"third").hexdigest()
        assert jobs_history(job_id) == [(1, 1), (1, 2), (1, 3)]

    def test_finishing_drops_the_checkpoint(self, db: str) -> None:
        job_id = running_job()
        assert record(job_id, 1, epoch=1, blob=b"state")
        with session_scope() as session:
            assert jobs.finish(session, job_id, 1, JobStatus.FAILED, "broken")
        with session_scope() as session:
            assert jobs.latest_checkpoint(session, job_id) is None


class TestRequeue:
    def test_queues_the_next_attempt_from_the_checkpoint(self, db: str) -> None:
        job_id = running_job()
        assert record(job_id, 1, epoch=1)
        assert record(job_id, 1, epoch=2, blob=b"state")
        assert record(job_id, 1, epoch=3)
        with session_scope() as session:
            assert jobs.requeue(session, job_id, 1)
        job = row(job_id)
        assert (job.status, job.attempt, job.worker_id) == ("queued", 2, None)
        # Progress goes back to the checkpoint; a graceful requeue is no loss.
        assert job.epoch == 2 and job.lease_losses == 0

    def test_then_only_the_new_attempts_message_claims_it(self, db: str) -> None:
        job_id = running_job()
        with session_scope() as session:
            assert jobs.requeue(session, job_id, 1)
        with session_scope() as session:
            assert not jobs.claim(session, job_id, 1, OTHER_WORKER)
            assert jobs.claim(session, job_id, 2, OTHER_WORKER)

    def test_the_reapers_form_leaves_a_live_lease_alone(self, db: str) -> None:
        job_id = running_job(heartbeat_age_s=5)
        with session_scope() as session:
            assert not jobs.requeue(session, job_id, 1, stale_before())
        assert row(job_id).status == "running"

    def test_the_reapers_form_counts_the_lost_lease(self, db: str) -> None:
        job_id = running_job(heartbeat_age_s=60)
        with session_scope() as session:
            assert jobs.requeue(session, job_id, 1, stale_before())
        job = row(job_id)
        assert (job.status, job.attempt, job.lease_losses, job.epoch) == (
            "queued",
            2,
            1,
            0,
        )

    def test_of_several_reapers_at_once_exactly_one_moves_the_job(
        self, db: str
    ) -> None:
        job_id = running_job(heartbeat_age_s=60)
        cutoff = stale_before()
        start = threading.Barrier(4)
        results: list[bool] = []

        def reap() -> None:
            start.wait()
            with session_scope() as session:
                results.append(jobs.requeue(session, job_id, 1, cutoff))

        threads = [threading.Thread(target=reap) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, False, False, True]
        assert row(job_id).attempt == 2


class TestResend:
    def test_one_of_two_reapers_claims_the_resend(self, db: str) -> None:
        job_id = add_job(updated_at=utcnow() - timedelta(minutes=5))
        cutoff = utcnow() - timedelta(minutes=1)
        with session_scope() as session:
            assert [job.id for job in jobs.unsent(session, cutoff)] == [job_id]
            assert jobs.mark_resent(session, job_id, 1, cutoff)
        with session_scope() as session:
            assert not jobs.mark_resent(session, job_id, 1, cutoff)
            assert jobs.unsent(session, cutoff) == []
