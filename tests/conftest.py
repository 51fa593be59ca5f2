"""Shared fixtures: an in-process API on a scratch SQLite database."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from persistence.settings import get_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh embedded deployment's folder: SQLite file and broker folder."""
    monkeypatch.setenv("DESCENT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DESCENT_DATABASE_URL", raising=False)
    monkeypatch.delenv("DESCENT_BROKER_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    """The API in-process; sent tasks wait in the broker folder, unconsumed."""
    from api.main import create_app
    from persistence.migrate import upgrade

    upgrade()
    with TestClient(create_app()) as test_client:
        yield test_client


def queued_messages(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "broker" / "queue").glob("*.msg"))
