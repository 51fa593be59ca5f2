"""Killing Descent's training processes and checking what the database kept.

Shared by the fault tests and scripts/kill_workers.py. Everything here acts
on a service this process started on loopback: a pid is signalled only if it
is a Celery pool process on this machine whose parent is a worker the
launcher started.
"""

import json
import os
import signal
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from persistence.models import EpochMetrics, TrainingJob
from tests.fixtures import specs

# Short enough that five kills fit in a test, long enough that a live worker
# on a busy two-core machine never misses it (it renews every 0.75 s).
FAULT_ENV = {
    "DESCENT_LEASE_TIMEOUT_SECONDS": "3",
    "DESCENT_REAPER_INTERVAL_SECONDS": "0.5",
    "DESCENT_CHECKPOINT_EVERY_EPOCHS": "1",
    "DESCENT_MAX_ATTEMPTS": "30",
}


def slow_digits_spec(epochs: int = 24, seed: int = 0) -> dict[str, Any]:
    """Digits with batches of 2: epochs of about 0.2 s, long enough to be
    killed in the middle of one."""
    return specs.slow_digits_spec(epochs, batch_size=2, seed=seed)


@dataclass
class Epoch:
    attempt: int
    epoch: int
    metrics: dict[str, Any]
    created_at: datetime


class Database:
    """Read-only views of the service's job rows."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def job(self, job_id: str) -> TrainingJob:
        with Session(self.engine, expire_on_commit=False) as session:
            job = session.get(TrainingJob, uuid.UUID(job_id))
            assert job is not None, job_id
            return job

    def history(self, job_id: str) -> list[Epoch]:
        query = (
            sa.select(EpochMetrics)
            .where(EpochMetrics.job_id == uuid.UUID(job_id))
            .order_by(EpochMetrics.attempt, EpochMetrics.epoch)
        )
        with Session(self.engine) as session:
            return [
                Epoch(row.attempt, row.epoch, row.metrics, row.created_at)
                for row in session.scalars(query)
            ]


def database_url(data_dir: Path, env: dict[str, str]) -> str:
    return env.get("DESCENT_DATABASE_URL") or f"sqlite:///{data_dir / 'descent.db'}"


def _ppid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rpartition(")")[2].split()[1])


def pool_process(worker_id: str | None, workers: set[int]) -> int | None:
    """The pid in a lease's worker id, if it is a live pool process (on this
    machine, running Celery) of one of ``workers`` (the launcher's workers)."""
    if not worker_id:
        return None
    host, _, pid_text = worker_id.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        parent = _ppid(pid)
    except (FileNotFoundError, ProcessLookupError):
        return None
    return pid if b"celery" in cmdline and parent in workers else None


@dataclass
class Kill:
    job_id: str
    attempt: int
    pid: int
    after_epoch: int


def try_kill(
    db: Database,
    job_id: str,
    workers: set[int],
    not_before_attempt: int,
    epochs_first: int = 2,
    whole_worker: bool = False,
) -> Kill | None:
    """If an attempt of at least ``not_before_attempt`` runs and has recorded
    ``epochs_first`` epochs, SIGKILL its process (or with ``whole_worker`` the
    worker it belongs to) half-way through its next epoch; else None at once."""
    job = db.job(job_id)
    pid = pool_process(job.worker_id, workers)
    if job.status != "running" or job.attempt < not_before_attempt or not pid:
        return None
    ours = [row for row in db.history(job_id) if row.attempt == job.attempt]
    # Not in the last epochs: the kill must find the job still training.
    if len(ours) < epochs_first or ours[-1].epoch >= job.epochs - 1:
        return None
    time.sleep(float(ours[-1].metrics.get("duration_s") or 0.2) / 2)
    again = db.job(job_id)
    if again.attempt != job.attempt or again.worker_id != job.worker_id:
        return None
    os.kill(_ppid(pid) if whole_worker else pid, signal.SIGKILL)
    return Kill(job_id, job.attempt, pid, ours[-1].epoch)


def kill_mid_epoch(
    db: Database,
    job_id: str,
    workers: set[int],
    not_before_attempt: int,
    timeout_s: float = 60.0,
    whole_worker: bool = False,
) -> Kill | None:
    """``try_kill`` until it kills; None if the job finished first or the
    wait timed out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        kill = try_kill(
            db, job_id, workers, not_before_attempt, whole_worker=whole_worker
        )
        if kill is not None:
            return kill
        if db.job(job_id).status in ("succeeded", "failed", "cancelled"):
            return None
        time.sleep(0.02)
    return None


def duplicates(history: list[Epoch]) -> list[str]:
    """An epoch recorded twice for one attempt, or two attempts of the job
    that trained at the same time (their epochs interleave)."""
    problems = []
    seen: set[tuple[int, int]] = set()
    for row in history:
        if (row.attempt, row.epoch) in seen:
            problems.append(
                f"epoch {row.epoch} recorded twice in attempt {row.attempt}"
            )
        seen.add((row.attempt, row.epoch))
    attempts = _by_attempt(history)
    previous_end: datetime | None = None
    for attempt, rows in sorted(attempts.items()):
        if previous_end is not None and rows[0].created_at <= previous_end:
            problems.append(f"attempt {attempt} trained while the one before did")
        previous_end = rows[-1].created_at
    return problems


def gaps(history: list[Epoch], epochs: int) -> list[str]:
    """An attempt that skips epochs or starts past where the last checkpoint
    could have been (after the last epoch recorded), or a job short of its
    last epoch."""
    problems = []
    reached = 0
    for attempt, rows in sorted(_by_attempt(history).items()):
        numbers = [row.epoch for row in rows]
        if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            problems.append(f"attempt {attempt} skips epochs: {numbers}")
        if numbers[0] > reached + 1:
            problems.append(
                f"attempt {attempt} starts at {numbers[0]}, after {reached}"
            )
        reached = max(reached, numbers[-1])
    if reached != epochs:
        problems.append(f"reached epoch {reached} of {epochs}")
    return problems


def history_problems(history: list[Epoch], epochs: int) -> list[str]:
    return duplicates(history) + gaps(history, epochs)


def _by_attempt(history: list[Epoch]) -> dict[int, list[Epoch]]:
    attempts: dict[int, list[Epoch]] = {}
    for row in history:
        attempts.setdefault(row.attempt, []).append(row)
    return attempts


def same_numbers(left: dict[str, Any], right: dict[str, Any]) -> bool:
    """Every metric but the epoch's duration, exactly."""
    keys = (set(left) | set(right)) - {"duration_s"}
    return all(left.get(key) == right.get(key) for key in keys)


def launcher_workers(log_path: Path) -> set[int]:
    """Pids of the worker processes the launcher started, from its log."""
    pids = set()
    for line in log_path.read_text(errors="replace").splitlines():
        if '"worker.started"' in line:
            pids.add(int(json.loads(line)["pid"]))
    return pids
