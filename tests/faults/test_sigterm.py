"""SIGTERM to a worker in the middle of a long job: instead of Celery's warm
shutdown waiting hours for the task, the training process stores a
checkpoint at the end of its epoch, requeues the job as its next attempt and
returns, and the worker exits within seconds. The launcher starts another,
which resumes the job where the checkpoint left off."""

import os
import signal
import time

import pytest

from tests.faults.chaos import (
    history_problems,
    launcher_workers,
    pool_process,
    slow_digits_spec,
)
from tests.faults.conftest import Deployment
from tests.fixtures.service import wait_for_job

pytestmark = pytest.mark.integration

EPOCHS = 24


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_sigterm_checkpoints_requeues_and_exits_promptly(
    deployment: Deployment,
) -> None:
    service, db = deployment.service, deployment.db
    with service.client() as http:
        job_id = deployment.submit(http, slow_digits_spec(EPOCHS))
        deadline = time.monotonic() + 60
        while len(db.history(job_id)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = launcher_workers(service.log_path)
        pool = pool_process(db.job(job_id).worker_id, workers)
        assert pool is not None, service.logs()
        (worker,) = {pid for pid in workers if not gone(pid)}

        os.kill(worker, signal.SIGTERM)
        sent = time.monotonic()
        while not gone(worker) and time.monotonic() - sent < 30:
            time.sleep(0.05)
        exited_after_s = time.monotonic() - sent
        job = wait_for_job(http, job_id, timeout_s=90)

    # Epochs last 0.2 s here: the epoch ends long before the 5 s grace.
    assert exited_after_s < 5, service.logs()
    assert job["status"] == "succeeded", (job, service.logs())
    history = db.history(job_id)
    assert history_problems(history, EPOCHS) == []
    first = [row.epoch for row in history if row.attempt == 1]
    second = [row.epoch for row in history if row.attempt == 2]
    # Attempt 2 starts right after attempt 1's last epoch: its checkpoint was
    # stored with that epoch, on the way out.
    assert second[0] == first[-1] + 1 and second[-1] == EPOCHS
    # Requeued in order, not reaped: no lease was lost.
    assert db.job(job_id).lease_losses == 0
