"""DESCENT_JOB_TIME_LIMIT_SECONDS through a real worker: Celery's soft time
limit stops a job that runs past it, and the job fails with a reason that
names the limit (it is not retried)."""

from pathlib import Path

import pytest

from tests.faults.chaos import slow_digits_spec
from tests.fixtures.service import Service, wait_for_job

pytestmark = pytest.mark.integration


def test_a_job_past_its_time_limit_fails_naming_it(tmp_path: Path) -> None:
    service = Service(tmp_path, {"DESCENT_JOB_TIME_LIMIT_SECONDS": "2"}).start()
    try:
        with service.client() as http:
            # About 0.2 s per epoch: 100 epochs would take 20 s.
            response = http.post("/v1/jobs", json=slow_digits_spec(100))
            assert response.status_code == 202, response.text
            job = wait_for_job(http, response.json()["id"], timeout_s=60)
    finally:
        service.stop()
    assert job["status"] == "failed", job
    assert "time limit of 2 s" in job["error"]
    assert "DESCENT_JOB_TIME_LIMIT_SECONDS" in job["error"]
    assert 0 < job["epoch"] < 100
