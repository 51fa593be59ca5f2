"""One attempt of a job in this process (worker/training.py): which messages
start training, how a resumed attempt continues bit for bit, and how an
attempt ends on shutdown, a lost lease or its time limit."""

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.exceptions import Reject, SoftTimeLimitExceeded

from core import EpochReport, FitConfig, dumps, fit
from persistence import jobs
from persistence.datasets import load_arrays
from persistence.db import session_scope
from persistence.settings import get_settings
from tests.worker.conftest import (
    WORKER,
    add_job,
    age_heartbeat,
    iris_spec,
    row,
    running_job,
    sent_messages,
)
from worker import shutdown, training
from worker.training import JobNotFoundError, run_training


def history(job_id: uuid.UUID) -> list[tuple[int, int]]:
    with session_scope() as session:
        return [(r.attempt, r.epoch) for r in jobs.epoch_history(session, job_id)]


def iris() -> tuple[object, object]:
    _info, x, y = load_arrays(None, "iris")  # type: ignore[arg-type]
    return x, y


@pytest.fixture
def stopping_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker starts shutting down as soon as this process claims the job
    (the flag its main process sets on SIGTERM)."""
    claim = training._start

    def claim_then_stop(*args: Any) -> training.Started | None:
        started = claim(*args)
        shutdown.request()
        return started

    monkeypatch.setattr(training, "_start", claim_then_stop)
    try:
        yield
    finally:
        shutdown._flag[0] = 0


class TestStart:
    def test_a_duplicate_message_while_a_live_lease_exists_is_ignored(
        self, db: str
    ) -> None:
        job_id = running_job(heartbeat_age_s=1)
        assert training._start(job_id, 1, get_settings()) is None
        job = row(job_id)
        assert (job.status, job.attempt, job.worker_id) == ("running", 1, WORKER)

    def test_a_message_for_an_old_attempt_is_ignored(self, db: str) -> None:
        job_id = add_job(attempt=2)
        assert training._start(job_id, 1, get_settings()) is None
        assert row(job_id).status == "queued"

    def test_a_message_for_a_finished_job_is_ignored(self, db: str) -> None:
        job_id = add_job(status="succeeded")
        assert training._start(job_id, 1, get_settings()) is None

    def test_a_redelivered_message_takes_over_a_stale_lease(self, db: str) -> None:
        job_id = running_job(heartbeat_age_s=120)
        started = training._start(job_id, 1, get_settings())
        assert started is not None and started.attempt == 2
        job = row(job_id)
        assert (job.status, job.attempt, job.lease_losses) == ("running", 2, 1)
        assert job.worker_id == training.worker_id()

    def test_the_last_allowed_lost_lease_fails_the_job(self, db: str) -> None:
        # DESCENT_MAX_ATTEMPTS is 3: two leases lost before, this is the third.
        job_id = running_job(attempt=3, heartbeat_age_s=120, lease_losses=2)
        assert training._start(job_id, 3, get_settings()) is None
        job = row(job_id)
        assert job.status == "failed"
        assert "3 times" in (job.error or "") and WORKER in (job.error or "")
        assert "DESCENT_MAX_ATTEMPTS" in (job.error or "")

    def test_a_missing_job_raises_an_error_naming_it(self, db: str) -> None:
        job_id = uuid.uuid4()
        with pytest.raises(JobNotFoundError, match=str(job_id)):
            training._start(job_id, 1, get_settings())


class TestResume:
    def test_a_taken_over_attempt_continues_bit_for_bit(
        self, db: str, broker: Celery
    ) -> None:
        spec = iris_spec(epochs=6)
        x, y = iris()
        config = FitConfig.from_dict(spec)
        reference = fit(x, y, config)

        # Attempt 1 trains three epochs, checkpoints the third, then dies.
        job_id = add_job(spec=spec)
        with session_scope() as session:
            assert jobs.claim(session, job_id, 1, WORKER)

        def attempt_one(report: EpochReport) -> bool:
            blob = report.checkpoint() if report.epoch == 3 else None
            with session_scope() as session:
                jobs.record_epoch(
                    session, job_id, 1, report.epoch, report.metrics, checkpoint=blob
                )
            return report.epoch == 3

        fit(x, y, config, on_epoch=attempt_one)
        age_heartbeat(job_id)

        # Its message comes back and takes the job over.
        run_training(job_id, 1, broker)
        job = row(job_id)
        assert job.status == "succeeded", job.error
        assert history(job_id) == [(1, 1), (1, 2), (1, 3), (2, 4), (2, 5), (2, 6)]
        with session_scope() as session:
            model = jobs.model_for_job(session, job_id)
            assert model is not None
            assert model.weights == dumps(reference.model)
            assert jobs.latest_checkpoint(session, job_id) is None
        final = reference.history[-1]
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            assert job.metrics[key] == final[key]  # type: ignore[index]


class TestShutdown:
    def test_checkpoints_the_epoch_and_requeues_the_next_attempt(
        self, db: str, broker: Celery, stopping_worker: None
    ) -> None:
        job_id = add_job()
        run_training(job_id, 1, broker)
        job = row(job_id)
        assert (job.status, job.attempt, job.epoch, job.lease_losses) == (
            "queued",
            2,
            1,
            0,
        )
        with session_scope() as session:
            checkpoint = jobs.latest_checkpoint(session, job_id)
            assert checkpoint is not None
            assert (checkpoint.attempt, checkpoint.epoch) == (1, 1)
        assert sent_messages() == [(str(job_id), 2)]

    def test_stops_mid_epoch_once_the_grace_is_spent(
        self,
        db: str,
        broker: Celery,
        stopping_worker: None,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(get_settings(), "shutdown_grace_seconds", 0.0)
        job_id = add_job()
        run_training(job_id, 1, broker)
        job = row(job_id)
        assert (job.status, job.attempt, job.epoch) == ("queued", 2, 0)
        assert history(job_id) == []
        assert sent_messages() == [(str(job_id), 2)]

    def test_a_message_that_arrives_meanwhile_goes_back_to_the_broker(
        self, db: str, broker: Celery
    ) -> None:
        job_id = add_job()
        shutdown.request()
        try:
            with pytest.raises(Reject) as rejected:
                run_training(job_id, 1, broker)
        finally:
            shutdown._flag[0] = 0
        assert rejected.value.requeue
        assert row(job_id).status == "queued"


class TestLostLease:
    def test_stops_without_writing_once_the_job_is_another_attempts(
        self, db: str, broker: Celery, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        job_id = add_job()
        real_update = training.GradientTrend.update

        def reaped_at_epoch_two(self, epoch, layers):  # type: ignore[no-untyped-def]
            if epoch == 2:
                # As the reaper would after a long pause of this process.
                with session_scope() as session:
                    assert jobs.requeue(session, job_id, 1)
            return real_update(self, epoch, layers)

        monkeypatch.setattr(training.GradientTrend, "update", reaped_at_epoch_two)
        run_training(job_id, 1, broker)
        job = row(job_id)
        assert (job.status, job.attempt) == ("queued", 2)
        assert history(job_id) == [(1, 1)]
        with session_scope() as session:
            assert jobs.model_for_job(session, job_id) is None


class TestTimeLimit:
    def test_the_soft_limit_fails_the_job_naming_it(
        self, db: str, broker: Celery, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def too_long(*_args: object, **_kwargs: object) -> None:
            raise SoftTimeLimitExceeded()

        monkeypatch.setattr(training, "fit", too_long)
        job_id = add_job()
        run_training(job_id, 1, broker)
        job = row(job_id)
        assert job.status == "failed"
        assert "DESCENT_JOB_TIME_LIMIT_SECONDS" in (job.error or "")

    def test_the_soft_limit_during_a_lease_renewal_still_fails_the_job(
        self, db: str, broker: Celery, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The limit's exception lands wherever the training thread happens to
        # be; a renewal must not take it for a database error and train on.
        monkeypatch.setattr(get_settings(), "lease_timeout_seconds", 1e-6)
        renew = jobs.renew

        def limit_hits_here(*args: Any) -> bool:
            if threading.current_thread() is threading.main_thread():
                raise SoftTimeLimitExceeded()
            return renew(*args)

        monkeypatch.setattr(jobs, "renew", limit_hits_here)
        job_id = add_job()
        run_training(job_id, 1, broker)
        job = row(job_id)
        assert job.status == "failed"
        assert "DESCENT_JOB_TIME_LIMIT_SECONDS" in (job.error or "")
