"""The real launcher and worker on loopback, with leases short enough to
kill and recover a training process several times in a test: once on the
embedded default, once on PostgreSQL and Redis."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.faults.chaos import FAULT_ENV, Database, database_url
from tests.faults.redis_server import RedisServer
from tests.fixtures.servers import (
    REDIS_URL,
    flush_redis,
    require_servers,
    scratch_postgres_database,
)
from tests.fixtures.service import Service


@dataclass
class Deployment:
    service: Service
    db: Database

    def submit(self, http: httpx.Client, spec: dict) -> str:  # type: ignore[type-arg]
        response = http.post("/v1/jobs", json=spec)
        assert response.status_code == 202, response.text
        return str(response.json()["id"])


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    data_dir = tmp_path_factory.mktemp(f"faults-{request.param}")
    env = dict(FAULT_ENV)
    if request.param == "embedded":
        service = Service(data_dir, env).start()
        db = Database(database_url(data_dir, env))
        yield Deployment(service, db)
        db.close()
        service.stop()
        return
    require_servers()
    with scratch_postgres_database() as url, own_redis(data_dir) as redis_url:
        env.update(DESCENT_DATABASE_URL=url, DESCENT_BROKER_URL=redis_url)
        service = Service(data_dir, env).start()
        db = Database(url)
        yield Deployment(service, db)
        db.close()
        service.stop()


@contextmanager
def own_redis(data_dir: Path) -> Iterator[str]:
    """A redis-server of this test's own where the binary is installed: other
    test runs on this machine share the Redis on 6379, and a worker of theirs
    would take our messages (and theirs would flush our queue)."""
    if shutil.which("redis-server") is None:
        flush_redis()
        yield REDIS_URL
        return
    server = RedisServer(data_dir / "redis").start()
    try:
        yield server.url
    finally:
        server.stop()
