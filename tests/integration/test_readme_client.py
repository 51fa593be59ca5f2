"""The README's notebook example of the Python client, run against a real
service (the launcher and a Celery worker on loopback)."""

from pathlib import Path
from typing import Any

import pytest

from tests.api.test_weights_readme import readme_block
from tests.fixtures.service import Service

pytestmark = pytest.mark.integration

README_URL = '"http://127.0.0.1:8000"'


def test_the_notebook_example_runs_as_written(tmp_path: Path) -> None:
    block = readme_block("from client import Client")
    assert README_URL in block
    service = Service(tmp_path / "descent").start()
    namespace: dict[str, Any] = {}
    try:
        exec(block.replace(README_URL, repr(service.url)), namespace)
    finally:
        if "client" in namespace:
            namespace["client"].close()
        service.stop()

    job = namespace["job"]
    assert job.status == "succeeded", job.error
    assert job.metrics["val_accuracy"] >= 0.9
    assert [epoch.epoch for epoch in namespace["history"]] == list(range(1, 16))
    assert namespace["model"].classes == list(range(10))
    predicted, truth = namespace["prediction"].predictions, namespace["y"][:5]
    assert sum(p == t for p, t in zip(predicted, truth, strict=True)) >= 4
