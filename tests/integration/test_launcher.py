"""``make run``'s launcher owns its worker: it restarts one that dies and
stops it when the service stops, leaving no process behind."""

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.fixtures.service import Service, wait_for_job
from tests.fixtures.specs import digits_spec

pytestmark = pytest.mark.integration


def worker_pids(service: Service) -> list[int]:
    pids = []
    for line in service.logs().splitlines():
        if '"worker.started"' in line:
            pids.append(int(json.loads(line)["pid"]))
    return pids


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not read its status yet.
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split()[2] != "Z"


def wait_until(predicate, timeout_s: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def registered_workers(data_dir: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(data_dir / "descent.db") as connection:
        return connection.execute("SELECT name, queues FROM workers").fetchall()


def test_a_worker_registers_its_queues_and_leaves_on_stop(tmp_path: Path) -> None:
    # The API refuses GPU jobs by reading these rows; they must be truthful.
    service = Service(tmp_path).start()
    try:
        assert wait_until(lambda: len(registered_workers(tmp_path)) == 1)
        ((name, queues),) = registered_workers(tmp_path)
        assert name.startswith("cpu-") and json.loads(queues) == ["cpu"]
    finally:
        service.stop()
    assert registered_workers(tmp_path) == []


def test_a_killed_worker_is_replaced_and_stopping_leaves_none(tmp_path: Path) -> None:
    service = Service(tmp_path).start()
    try:
        assert wait_until(lambda: len(worker_pids(service)) == 1)
        first = worker_pids(service)[0]
        os.kill(first, signal.SIGKILL)
        assert wait_until(lambda: len(worker_pids(service)) == 2), service.logs()
        second = worker_pids(service)[1]
        with service.client() as http:
            job = http.post("/v1/jobs", json=digits_spec(training={"epochs": 2}))
            done = wait_for_job(http, job.json()["id"], timeout_s=60)
        assert done["status"] == "succeeded"
    finally:
        service.stop()
    assert wait_until(lambda: not alive(second), timeout_s=10)
