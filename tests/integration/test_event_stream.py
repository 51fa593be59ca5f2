"""The event stream over real HTTP while a real worker trains: a client that
drops the connection and comes back with Last-Event-ID misses nothing and
sees nothing twice. Once on the embedded default, once on PostgreSQL and
Redis."""

from collections.abc import Iterator

import pytest

from tests.fixtures.service import Service, backend_service, wait_for_job
from tests.fixtures.streams import bounded, read_live, slow_digits_spec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    data_dir = tmp_path_factory.mktemp(f"events-{request.param}")
    with backend_service(request.param, data_dir) as running:
        yield running


class TestReconnect:
    def test_every_epoch_exactly_once_across_a_dropped_connection(
        self, service: Service
    ) -> None:
        epochs = 40
        with service.client() as http:
            response = http.post("/v1/jobs", json=slow_digits_spec(epochs))
            assert response.status_code == 202, response.text
            job_id = response.json()["id"]
        url = f"{service.url}/v1/jobs/{job_id}/events"

        first = bounded(120, lambda: read_live(url, None, stop_after_epochs=5))
        assert first[0]["event"] == "status"
        assert first[0]["data"]["status"] in ("queued", "running")
        second = bounded(180, lambda: read_live(url, first[-1]["id"], None))

        seen = [e["data"]["epoch"] for e in first + second if e["event"] == "epoch"]
        assert sorted(seen) == list(range(1, epochs + 1)), seen
        assert len(seen) == len(set(seen))
        assert second[-1]["event"] == "status"
        assert second[-1]["data"]["status"] == "succeeded"
        assert second[-1]["data"]["model_id"] is not None
        ids = [e["id"] for e in first + second]
        assert len(ids) == len(set(ids))

        with service.client() as http:
            job = wait_for_job(http, job_id, timeout_s=30)
            assert job["status"] == "succeeded", service.logs()
            again = http.get(url, headers={"Last-Event-ID": second[-1]["id"]})
            assert again.status_code == 204
