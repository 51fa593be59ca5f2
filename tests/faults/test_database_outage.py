"""PostgreSQL goes away in the middle of training and comes back: the API
answers 503 meanwhile, and the job still ends succeeded, resumed from its last
checkpoint (issue: trustworthy under faults). The outage is played by a
loopback proxy in front of the real server, which itself is never touched."""

import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.faults.chaos import FAULT_ENV
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.servers import require_servers, scratch_postgres_database
from tests.fixtures.service import Service, wait_for_job
from tests.fixtures.specs import slow_digits_spec

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_training_survives_a_database_outage(tmp_path: Path) -> None:
    require_servers()
    with scratch_postgres_database() as url:
        parts = urlsplit(url)
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        proxied = url.replace(
            f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}"
        )
        # The embedded folder broker: this test owns its messages.
        service = Service(tmp_path, {**FAULT_ENV, "DESCENT_DATABASE_URL": proxied})
        service.start()
        try:
            with service.client() as http:
                spec = slow_digits_spec(12, batch_size=8)
                job_id = http.post("/v1/jobs", json=spec).json()["id"]
                deadline = time.monotonic() + 120
                while http.get(f"/v1/jobs/{job_id}").json()["epoch"] < 3:
                    assert time.monotonic() < deadline, service.logs()
                    time.sleep(0.2)
                proxy.cut()
                try:
                    outage = http.get(f"/v1/jobs/{job_id}")
                    assert outage.status_code == 503
                    time.sleep(6)  # past the 3 s lease: the worker's writes fail
                finally:
                    proxy.restore()
                job = wait_for_job(http, job_id, timeout_s=180)
                assert job["status"] == "succeeded", (job, service.logs())
                rows = http.get(f"/v1/jobs/{job_id}/metrics").json()["data"]
        finally:
            service.stop()
            proxy.close()
    # Every epoch was recorded, some of them by a later attempt after the outage.
    assert sorted({row["epoch"] for row in rows}) == list(range(1, 13))
    # The attempt that lost the database stopped; the next one resumed from
    # its checkpoint (seen here: epochs 1-5 by attempt 1, 6-12 by attempt 2).
    assert max(row["attempt"] for row in rows) >= 2
    assert isinstance(job["model_id"], str)
