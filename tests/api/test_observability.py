"""GET /metrics, GET /readyz and request logs with their ids."""

import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import func, select

from persistence.db import session_scope
from persistence.models import EpochMetrics, TrainingJob, utcnow
from persistence.settings import get_settings
from tests.api.test_models import model_id  # noqa: F401 (a fixture)
from tests.conftest import queued_messages
from tests.fixtures.servers import REDIS_URL, flush_redis, require_servers

SPEC = {
    "dataset": "iris",
    "network": {"layers": [{"type": "dense", "units": 3, "activation": "softmax"}]},
    "loss": "cross_entropy",
}


def scrape(client: TestClient) -> dict[str, list[Sample]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = text_string_to_metric_families(response.text)
    return {family.name: family.samples for family in families}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    for sample in samples:
        if sample.name == name and all(
            sample.labels.get(k) == v for k, v in labels.items()
        ):
            return sample.value
    raise AssertionError(f"no sample {name} {labels}")


def add_jobs(counts: dict[str, int]) -> None:
    with session_scope() as session:
        for status, count in counts.items():
            for _ in range(count):
                session.add(
                    TrainingJob(
                        builtin_dataset="iris", spec={}, status=status, epochs=1
                    )
                )


class TestMetrics:
    def test_job_counts_match_the_database(self, client: TestClient) -> None:
        add_jobs({"queued": 2, "running": 1, "succeeded": 4, "failed": 1})
        samples = scrape(client)["descent_jobs"]
        with session_scope() as session:
            rows = session.execute(
                select(TrainingJob.status, func.count()).group_by(TrainingJob.status)
            )
            expected = {status: count for status, count in rows}
        for status in ("queued", "running", "succeeded", "failed", "cancelled"):
            assert value(samples, "descent_jobs", status=status) == expected.get(
                status, 0
            )

    def test_requests_are_counted_by_route_and_status(self, client: TestClient) -> None:
        client.get(f"/v1/jobs/{uuid.uuid4()}")
        client.get("/v1/jobs")
        samples = scrape(client)
        requests = samples["http_requests"]
        route = "/v1/jobs/{job_id}"
        assert value(requests, "http_requests_total", handler=route, status="404") == 1
        assert value(requests, "http_requests_total", handler="/v1/jobs", status="200")
        latency = samples["http_request_duration_seconds"]
        count = value(latency, "http_request_duration_seconds_count", handler=route)
        assert count == 1

    def test_queue_depth_counts_waiting_messages(
        self, client: TestClient, data_dir: Path
    ) -> None:
        for _ in range(3):
            assert client.post("/v1/jobs", json=SPEC).status_code == 202
        samples = scrape(client)["descent_queue_depth"]
        waiting = len(queued_messages(data_dir))
        assert waiting == 3
        assert value(samples, "descent_queue_depth", queue="cpu") == waiting
        assert value(samples, "descent_queue_depth", queue="gpu") == 0

    def test_predictions_served_counts_rows(
        self,
        client: TestClient,
        model_id: str,  # noqa: F811
    ) -> None:
        rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
        response = client.post(f"/v1/models/{model_id}/predict", json={"inputs": rows})
        assert response.status_code == 200
        samples = scrape(client)["descent_predictions"]
        assert value(samples, "descent_predictions_total") == 2

    def test_epoch_durations_come_from_rows_written_since_the_last_scrape(
        self, client: TestClient
    ) -> None:
        job = TrainingJob(builtin_dataset="iris", spec={}, status="running", epochs=9)
        with session_scope() as session:
            session.add(job)
            session.flush()
            session.add(EpochMetrics(job_id=job.id, attempt=1, epoch=1, metrics={}))
        scrape(client)  # the first scrape only marks where to start

        settled = utcnow() - timedelta(minutes=1)
        durations = [0.002, 0.04, 0.04, 3.0]
        with session_scope() as session:
            for epoch, duration in enumerate(durations, start=2):
                row = EpochMetrics(job_id=job.id, attempt=1, epoch=epoch)
                row.metrics, row.created_at = {"duration_s": duration}, settled
                session.add(row)
            # Too fresh to read: it could still have an uncommitted neighbour.
            session.add(
                EpochMetrics(
                    job_id=job.id, attempt=1, epoch=9, metrics={"duration_s": 1}
                )
            )
        samples = scrape(client)["descent_epoch_duration_seconds"]
        name = "descent_epoch_duration_seconds"
        assert value(samples, f"{name}_count", queue="cpu") == 4
        assert value(samples, f"{name}_sum", queue="cpu") == pytest.approx(3.082)
        assert value(samples, f"{name}_bucket", queue="cpu", le="0.05") == 3
        again = scrape(client)["descent_epoch_duration_seconds"]
        assert value(again, f"{name}_count", queue="cpu") == 4


@pytest.fixture
def redis_client(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The API in-process on the Redis broker of the test machine."""
    require_servers()
    flush_redis()
    monkeypatch.setenv("DESCENT_BROKER_URL", REDIS_URL)
    get_settings.cache_clear()
    from api.main import create_app
    from persistence.migrate import upgrade

    upgrade()
    with TestClient(create_app()) as test_client:
        yield test_client
    flush_redis()


@pytest.mark.postgres
def test_queue_depth_on_redis_is_the_length_of_the_list(
    redis_client: TestClient,
) -> None:
    for _ in range(2):
        assert redis_client.post("/v1/jobs", json=SPEC).status_code == 202
    samples = scrape(redis_client)["descent_queue_depth"]
    assert value(samples, "descent_queue_depth", queue="cpu") == 2
    assert value(samples, "descent_queue_depth", queue="gpu") == 0


def app_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> TestClient:
    for name, setting in env.items():
        monkeypatch.setenv(f"DESCENT_{name.upper()}", setting)
    get_settings.cache_clear()
    from api.main import create_app

    return TestClient(create_app())


class TestReadiness:
    def test_ready_when_both_answer(self, client: TestClient) -> None:
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ready",
            "checks": {"database": "ok", "broker": "ok"},
        }

    def test_a_broker_that_refuses_is_named(
        self, data_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Port 9 (discard) has no listener on loopback: the connection is refused.
        with app_with(monkeypatch, broker_url="redis://127.0.0.1:9/0") as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == "urn:descent:problem:not-ready"
        assert problem["checks"]["database"] == "ok"
        assert problem["checks"]["broker"].startswith("down")
        assert problem["detail"].startswith("not ready: broker down")
        assert "127.0.0.1" not in problem["detail"]

    def test_a_missing_database_is_named(
        self, data_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        missing = data_dir / "no-such-folder" / "descent.db"
        with app_with(monkeypatch, database_url=f"sqlite:///{missing}") as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["database"].startswith("down") and checks["broker"] == "ok"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, dict):
            self.events.append(record.msg)


@pytest.fixture
def request_logs() -> Iterator[list[dict]]:
    handler = _Records()
    logger = logging.getLogger("api.request_logs")
    logger.addHandler(handler)
    try:
        yield handler.events
    finally:
        logger.removeHandler(handler)


class TestRequestLogs:
    def test_each_request_gets_an_id_in_its_logs_and_answer(
        self, client: TestClient, request_logs: list[dict]
    ) -> None:
        response = client.get("/v1/jobs")
        request_id = response.headers["X-Request-ID"]
        assert len(request_id) == 32
        finished = [e for e in request_logs if e["event"] == "request.finished"]
        assert finished[-1]["request_id"] == request_id
        assert finished[-1]["status"] == 200 and finished[-1]["path"] == "/v1/jobs"

    def test_a_route_with_a_job_id_logs_it(
        self, client: TestClient, request_logs: list[dict]
    ) -> None:
        job_id = str(uuid.uuid4())
        client.get(f"/v1/jobs/{job_id}", headers={"X-Request-ID": "trace-7"})
        finished = [e for e in request_logs if e["event"] == "request.finished"][-1]
        assert finished["job_id"] == job_id
        assert finished["request_id"] == "trace-7"
        assert finished["status"] == 404

    def test_an_unusable_client_id_is_replaced(self, client: TestClient) -> None:
        response = client.get("/healthz", headers={"X-Request-ID": "x" * 65})
        assert response.headers["X-Request-ID"] != "x" * 65
