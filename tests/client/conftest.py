"""The real API served by uvicorn on loopback, in a thread, without a worker.

Sent jobs wait in the scratch deployment's broker folder: nothing trains, so
these tests see jobs queued and never running.
"""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from client import Client
from persistence.settings import get_settings
from tests.fixtures.service import free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a fresh embedded deployment, migrated and serving."""
    data_dir: Path = tmp_path_factory.mktemp("descent-client")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DESCENT_DATA_DIR", str(data_dir))
        env.delenv("DESCENT_DATABASE_URL", raising=False)
        env.delenv("DESCENT_BROKER_URL", raising=False)
        get_settings.cache_clear()
        from api.main import create_app
        from persistence.migrate import upgrade

        upgrade()
        port = free_port()
        config = uvicorn.Config(
            create_app(),
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            ws="none",
            lifespan="on",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        try:
            _wait_until_started(server, thread)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            get_settings.cache_clear()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited before it started serving")
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start serving within 20 s")
        time.sleep(0.05)


@pytest.fixture
def descent(server: str) -> Iterator[Client]:
    """A Client of the served API, with no key and a short timeout."""
    with Client(server, key="", timeout=10) as client:
        yield client


@pytest.fixture
def closed_url() -> str:
    """A loopback URL on which nothing listens."""
    return f"http://127.0.0.1:{free_port()}"
