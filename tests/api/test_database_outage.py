"""While PostgreSQL is unreachable the API answers 503 with a problem document,
and it recovers by itself once the database is back (issue: trustworthy under
faults). The outage is played by a loopback proxy in front of the real server."""

import gc
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from persistence.settings import get_settings
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.servers import require_servers, scratch_postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxied(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    require_servers()
    with scratch_postgres_database() as url:
        parts = urlsplit(url)
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        proxied_url = url.replace(
            f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}"
        )
        monkeypatch.setenv("DESCENT_DATABASE_URL", proxied_url)
        get_settings.cache_clear()
        from api.main import create_app
        from persistence.db import dispose_engines
        from persistence.migrate import upgrade

        upgrade()
        try:
            with TestClient(create_app()) as client:
                yield client, proxy
        finally:
            dispose_engines()
            proxy.close()
            # The connections the outage broke are collected here, where their
            # "deleted while still open" notice is expected, not at exit.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                gc.collect()


def test_503_while_the_database_is_away_then_recovery(proxied: tuple) -> None:
    client, proxy = proxied
    assert client.get("/v1/jobs").status_code == 200
    proxy.cut()
    response = client.get("/v1/jobs")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"] == "urn:descent:problem:database-unavailable"
    proxy.restore()
    assert client.get("/v1/jobs").status_code == 200
