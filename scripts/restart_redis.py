"""Restart Redis in the middle of a job and show that no job is lost.

    .venv/bin/python scripts/restart_redis.py

Starts a redis-server of its own on a free loopback port (keeping nothing on
disk, like the shared one on 6379, which it never touches) and a service on
it, with SQLite as the database, in a temporary folder. Then:

  job A trains while Redis goes down and comes back empty;
  job B waits in the Redis queue behind A, so its message dies with Redis;
  job C is submitted while Redis is down, so its message is never sent.

A finishes: training needs only the database. B and C stay queued until the
reaper finds them queued with an empty broker queue and sends them again.
Prints each job's end and exits 1 unless every job succeeded or failed with
a reason.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.chaos import (  # noqa: E402
    FAULT_ENV,
    Database,
    database_url,
    slow_digits_spec,  # noqa: E402
)
from tests.faults.redis_server import RedisServer  # noqa: E402
from tests.fixtures.service import Service, wait_for_job  # noqa: E402


def submit(http: httpx.Client, spec: dict) -> str:  # type: ignore[type-arg]
    response = http.post("/v1/jobs", json=spec)
    response.raise_for_status()
    return str(response.json()["id"])


def wait_epochs(db: Database, job_id: str, count: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while len(db.history(job_id)) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"job {job_id} did not reach epoch {count}")
        time.sleep(0.1)


def resends(service: Service, job_id: str) -> int:
    lines = service.log_path.read_text(errors="replace").splitlines()
    return sum('"job.resent"' in line and job_id in line for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--down-seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="descent-redis-") as folder:
        data_dir = Path(folder)
        redis_server = RedisServer(data_dir / "redis").start()
        env = {
            **FAULT_ENV,
            "DESCENT_BROKER_URL": redis_server.url,
            # Re-send a job left queued 5 s with nothing in its broker queue.
            "DESCENT_RESEND_AFTER_SECONDS": "5",
        }
        service = Service(data_dir, env).start()
        db = Database(database_url(data_dir, env))
        try:
            with service.client() as http:
                job_a = submit(http, slow_digits_spec(40, seed=1))
                job_b = submit(http, slow_digits_spec(10, seed=2))
                wait_epochs(db, job_a, 3, timeout_s=60)
                print(f"Redis on port {redis_server.port} stops; job A is training")
                redis_server.stop()
                job_c = submit(http, slow_digits_spec(10, seed=3))
                time.sleep(args.down_seconds)
                redis_server.start()
                print(f"Redis is back after {args.down_seconds:g} s, empty")
                ok = True
                for name, job_id, story in (
                    ("A", job_a, "trained through the restart"),
                    ("B", job_b, "queued in Redis when it stopped"),
                    ("C", job_c, "submitted while Redis was down"),
                ):
                    job = wait_for_job(http, job_id, timeout_s=180)
                    row = db.job(job_id)
                    ended = job["status"] + (
                        f" ({job['error']})" if job["error"] else ""
                    )
                    print(
                        f"job {name} ({story}): {ended}, epoch {job['epoch']} of "
                        f"{job['epochs']}, attempt {row.attempt}, "
                        f"re-sent by the reaper: {resends(service, job_id)}"
                    )
                    ok &= job["status"] == "succeeded" or bool(job["error"])
            return 0 if ok else 1
        finally:
            db.close()
            service.stop()
            redis_server.stop()


if __name__ == "__main__":
    sys.exit(main())
