"""CASES C9, a killed worker: the training process SIGKILLed mid-epoch five
times in a row, and a whole worker killed mid-job. The job ends succeeded,
with the numbers of a run never interrupted, and its history shows every
resumption: one attempt after another, each starting where the checkpoint
(stored with every epoch here) left off, never two at once."""

import pytest

from tests.faults.chaos import (
    history_problems,
    kill_mid_epoch,
    launcher_workers,
    same_numbers,
    slow_digits_spec,
)
from tests.faults.conftest import Deployment
from tests.fixtures.service import wait_for_job

pytestmark = pytest.mark.integration

EPOCHS = 24


def test_five_kills_mid_epoch_end_as_the_uninterrupted_run(
    deployment: Deployment,
) -> None:
    service, db = deployment.service, deployment.db
    with service.client() as http:
        job_id = deployment.submit(http, slow_digits_spec(EPOCHS))
        kills = []
        for _ in range(5):
            kill = kill_mid_epoch(
                db,
                job_id,
                launcher_workers(service.log_path),
                not_before_attempt=kills[-1].attempt + 1 if kills else 1,
            )
            assert kill is not None, service.logs()
            kills.append(kill)
        job = wait_for_job(http, job_id, timeout_s=90)
        reference_id = deployment.submit(http, slow_digits_spec(EPOCHS))
        reference = wait_for_job(http, reference_id, timeout_s=60)
    assert job["status"] == "succeeded", (job, service.logs())
    assert reference["status"] == "succeeded", reference

    history = db.history(job_id)
    assert history_problems(history, EPOCHS) == []
    # Five processes killed, five attempts behind the one that finished.
    attempts = sorted({row.attempt for row in history})
    assert len(attempts) >= 6, attempts
    assert {kill.attempt for kill in kills} < set(attempts)
    # Each attempt resumed right after the last epoch the one before recorded:
    # no epoch is trained twice, none skipped.
    assert [row.epoch for row in history] == list(range(1, EPOCHS + 1))

    # A checkpoint restores every bit of the state, and the same machine's
    # BLAS repeats its sums, so the resumed run equals the uninterrupted one
    # exactly, epoch by epoch; a tolerance could only hide a resume bug.
    uninterrupted = db.history(reference_id)
    assert len(uninterrupted) == EPOCHS
    for resumed, straight in zip(history, uninterrupted, strict=True):
        assert same_numbers(resumed.metrics, straight.metrics), (resumed, straight)
    assert job["metrics"]["val_accuracy"] == reference["metrics"]["val_accuracy"]


def test_a_whole_worker_killed_mid_job_is_replaced_and_the_job_resumes(
    deployment: Deployment,
) -> None:
    # The embedded broker deleted the message on receipt and Redis keeps it
    # unacknowledged for hours: only the reaper brings this job back.
    service, db = deployment.service, deployment.db
    with service.client() as http:
        job_id = deployment.submit(http, slow_digits_spec(EPOCHS))
        kill = kill_mid_epoch(
            db,
            job_id,
            launcher_workers(service.log_path),
            not_before_attempt=1,
            whole_worker=True,
        )
        assert kill is not None, service.logs()
        job = wait_for_job(http, job_id, timeout_s=90)
    assert job["status"] == "succeeded", (job, service.logs())
    history = db.history(job_id)
    assert history_problems(history, EPOCHS) == []
    assert len({row.attempt for row in history}) >= 2
