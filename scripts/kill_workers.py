"""SIGKILL Descent's training processes mid-epoch, many times, and count.

    .venv/bin/python scripts/kill_workers.py                     # embedded
    .venv/bin/python scripts/kill_workers.py --backend postgres  # + Redis

Starts its own service on loopback in a temporary folder (the launcher, its
worker with two pool processes, short leases) and submits --jobs jobs. Then,
--kills times in all, spread over the jobs, it waits for a job's current
attempt to record two epochs and SIGKILLs the process training it half-way
through the next one. It waits for every job and prints one line:

    killed N, recovered N, stuck 0, duplicated 0

recovered: kills after which the job trained on under a later attempt and
succeeded. stuck: jobs not succeeded (still running or queued, or failed)
when the wait ends. duplicated: an epoch recorded twice for one attempt, or
two attempts of a job training at the same time. The exit status is 1 unless
every kill recovered and stuck and duplicated are 0.

The postgres backend uses a scratch database on DESCENT_TEST_POSTGRES_URL's
server (dropped afterwards) and a redis-server of its own on a free port.
"""

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.chaos import (  # noqa: E402
    FAULT_ENV,
    Database,
    Kill,
    database_url,
    duplicates,
    gaps,
    launcher_workers,
    slow_digits_spec,
    try_kill,
)
from tests.faults.redis_server import RedisServer  # noqa: E402
from tests.fixtures.servers import scratch_postgres_database  # noqa: E402
from tests.fixtures.service import Service  # noqa: E402

FINISHED = ("succeeded", "failed", "cancelled")


def attack(
    service: Service, db: Database, jobs: list[str], kills: int, deadline: float
) -> list[Kill]:
    share = math.ceil(kills / len(jobs))
    done: list[Kill] = []
    last_attempt = dict.fromkeys(jobs, 0)
    while len(done) < kills and time.monotonic() < deadline:
        status = {job_id: db.job(job_id).status for job_id in jobs}
        if all(value in FINISHED for value in status.values()):
            break
        count = {job_id: sum(k.job_id == job_id for k in done) for job_id in jobs}
        # A job takes up to two more than its share once every unfinished job
        # has had its own, in case one finishes before its share is spent.
        shared_out = all(
            count[job_id] >= share for job_id in jobs if status[job_id] not in FINISHED
        )
        for job_id in jobs:
            if count[job_id] >= share + (2 if shared_out else 0):
                continue
            kill = try_kill(
                db,
                job_id,
                launcher_workers(service.log_path),
                not_before_attempt=last_attempt[job_id] + 1,
            )
            if kill is None:
                continue
            done.append(kill)
            last_attempt[job_id] = kill.attempt
            print(
                f"  killed pid {kill.pid}: job {job_id[:8]} attempt "
                f"{kill.attempt}, after epoch {kill.after_epoch}"
            )
            if len(done) == kills:
                break
        time.sleep(0.05)
    return done


def wait_all(db: Database, jobs: list[str], deadline: float) -> None:
    while time.monotonic() < deadline:
        if all(db.job(job_id).status in FINISHED for job_id in jobs):
            return
        time.sleep(0.2)


def tally(db: Database, jobs: list[str], kills: list[Kill], epochs: int) -> int:
    rows = {job_id: db.job(job_id) for job_id in jobs}
    histories = {job_id: db.history(job_id) for job_id in jobs}
    recovered = sum(
        rows[kill.job_id].status == "succeeded"
        and any(e.attempt > kill.attempt for e in histories[kill.job_id])
        for kill in kills
    )
    stuck = sum(row.status != "succeeded" for row in rows.values())
    duplicated = skipped = 0
    for job_id in jobs:
        twice = duplicates(histories[job_id])
        missing = gaps(histories[job_id], epochs)
        for problem in twice + missing:
            print(f"  job {job_id[:8]}: {problem}")
        duplicated += len(twice)
        skipped += len(missing)
        row = rows[job_id]
        attempts = sorted({e.attempt for e in histories[job_id]})
        print(
            f"  job {job_id[:8]}: {row.status}, attempts {attempts}, "
            f"{row.lease_losses} leases lost{', ' + row.error if row.error else ''}"
        )
    print(
        f"killed {len(kills)}, recovered {recovered}, stuck {stuck}, "
        f"duplicated {duplicated}"
    )
    clean = recovered == len(kills) and stuck == duplicated == skipped == 0
    return 0 if clean else 1


def run(data_dir: Path, env: dict[str, str], args: argparse.Namespace) -> int:
    service = Service(data_dir, env).start()
    db = Database(database_url(data_dir, env))
    try:
        with service.client() as http:
            jobs = []
            for seed in range(args.jobs):
                spec = slow_digits_spec(args.epochs, seed=seed)
                response = http.post("/v1/jobs", json=spec)
                response.raise_for_status()
                jobs.append(str(response.json()["id"]))
        deadline = time.monotonic() + args.timeout
        kills = attack(service, db, jobs, args.kills, deadline)
        wait_all(db, jobs, deadline)
        return tally(db, jobs, kills, args.epochs)
    finally:
        db.close()
        service.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend", choices=["embedded", "postgres"], default="embedded"
    )
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    env = {
        **FAULT_ENV,
        # Every other epoch: a resumed attempt re-trains the epoch the killed
        # one recorded after its last checkpoint.
        "DESCENT_CHECKPOINT_EVERY_EPOCHS": "2",
        "DESCENT_WORKER_CONCURRENCY": "2",
    }
    with tempfile.TemporaryDirectory(prefix="descent-kill-") as folder:
        data_dir = Path(folder)
        if args.backend != "postgres":
            return run(data_dir, env, args)
        redis_server = RedisServer(data_dir / "redis").start()
        try:
            with scratch_postgres_database() as url:
                env.update(
                    DESCENT_DATABASE_URL=url, DESCENT_BROKER_URL=redis_server.url
                )
                return run(data_dir, env, args)
        finally:
            redis_server.stop()


if __name__ == "__main__":
    sys.exit(main())
