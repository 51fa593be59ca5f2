"""A migrated database per backend (SQLite, PostgreSQL), emptied after each
test, and job rows to move around in it."""

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import delete, update

from core import FitConfig
from persistence.broker import make_celery
from persistence.db import dispose_engines, get_engine, session_scope
from persistence.migrate import upgrade
from persistence.models import (
    Checkpoint,
    EpochMetrics,
    TrainedModel,
    TrainingJob,
    utcnow,
)
from persistence.settings import get_settings
from tests.fixtures.servers import require_servers, scratch_postgres_database

WORKER = "host-a:101"
OTHER_WORKER = "host-b:202"


def iris_spec(epochs: int = 6) -> dict[str, Any]:
    """A small resolved spec (every default spelled out, as the API stores it)."""
    return FitConfig.from_dict(
        {
            "task": "classification",
            "network": {
                "layers": [
                    {"type": "dense", "units": 8, "activation": "relu"},
                    {"type": "dense", "units": 3, "activation": "softmax"},
                ]
            },
            "loss": "cross_entropy",
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "training": {
                "epochs": epochs,
                "batch_size": 16,
                "validation_split": 0.2,
                "seed": 3,
            },
        }
    ).to_dict()


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The backend's name; settings point every session at it."""
    data_dir: Path = tmp_path_factory.mktemp(f"worker-{request.param}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DESCENT_DATA_DIR", str(data_dir))
        patch.delenv("DESCENT_BROKER_URL", raising=False)
        patch.delenv("DESCENT_DATABASE_URL", raising=False)
        if request.param == "sqlite":
            get_settings.cache_clear()
            upgrade()
            yield request.param
            _close_engines()
        else:
            require_servers()
            with scratch_postgres_database() as url:
                patch.setenv("DESCENT_DATABASE_URL", url)
                get_settings.cache_clear()
                upgrade()
                yield request.param
                _close_engines()
    get_settings.cache_clear()


def _close_engines() -> None:
    get_engine().dispose()
    dispose_engines()


@pytest.fixture
def db(database: str) -> Iterator[str]:
    """The module's database, emptied of jobs after the test."""
    yield database
    with session_scope() as session:
        for table in (Checkpoint, EpochMetrics, TrainedModel, TrainingJob):
            session.execute(delete(table))


def add_job(**values: Any) -> uuid.UUID:
    """A job row (queued, attempt 1 unless told), committed."""
    job_id = uuid.uuid4()
    fields: dict[str, Any] = {
        "builtin_dataset": "iris",
        "spec": iris_spec(),
        "queue": "cpu",
        "epochs": 6,
        **values,
    }
    with session_scope() as session:
        session.add(TrainingJob(id=job_id, **fields))
    return job_id


def running_job(
    attempt: int = 1, heartbeat_age_s: float = 0.0, **values: Any
) -> uuid.UUID:
    """A job running under WORKER's lease, last renewed ``heartbeat_age_s`` ago."""
    beat: datetime = utcnow() - timedelta(seconds=heartbeat_age_s)
    return add_job(
        status="running",
        attempt=attempt,
        worker_id=WORKER,
        heartbeat_at=beat,
        started_at=beat,
        **values,
    )


def age_heartbeat(job_id: uuid.UUID, seconds: float = 120) -> None:
    """As if the lease's holder died ``seconds`` ago."""
    with session_scope() as session:
        session.execute(
            update(TrainingJob)
            .where(TrainingJob.id == job_id)
            .values(heartbeat_at=utcnow() - timedelta(seconds=seconds))
        )


def row(job_id: uuid.UUID) -> TrainingJob:
    with session_scope() as session:
        job = session.get(TrainingJob, job_id)
        assert job is not None
        return job


def sent_messages() -> list[tuple[str, int]]:
    """(job id, attempt) of every run_job message waiting in the folder broker."""
    messages = []
    for path in sorted((get_settings().broker_folder / "queue").glob("*.msg")):
        body = json.loads(path.read_bytes())["body"]
        args, _kwargs, _embed = json.loads(base64.b64decode(body))
        messages.append((args[0], args[1]))
    return messages


@pytest.fixture
def broker(db: str) -> Iterator[Celery]:
    """A Celery app on an empty folder broker (whatever the database)."""
    for path in (get_settings().broker_folder / "queue").glob("*.msg"):
        path.unlink()
    yield make_celery()
