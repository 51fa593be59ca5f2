"""GET /v1/jobs/{id}/events in-process: the event ids, the order of events,
and resuming from an id. Every read of a stream runs under a deadline."""

import threading
import time
import uuid
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from api.job_events import BATCH_ROWS, Cursor, Snapshot, next_events
from api.schemas import JobEpochEvent, JobStatusEvent
from persistence.db import session_scope
from persistence.models import EpochMetrics, JobStatus, TrainingJob
from tests.fixtures.streams import Event, bounded, parse_events


def add_job(
    status: str = JobStatus.RUNNING, epochs: int = 5, attempt: int = 1
) -> uuid.UUID:
    job = TrainingJob(
        id=uuid.uuid4(),
        builtin_dataset="iris",
        spec={"task": "classification"},
        status=status,
        attempt=attempt,
        epochs=epochs,
    )
    with session_scope() as session:
        session.add(job)
    return job.id


def add_epochs(
    job_id: uuid.UUID, epochs: range, attempt: int = 1, **metrics: float
) -> None:
    with session_scope() as session:
        for epoch in epochs:
            values = {"loss": 1.0 / epoch, **metrics}
            session.add(
                EpochMetrics(
                    job_id=job_id, attempt=attempt, epoch=epoch, metrics=values
                )
            )


def set_status(job_id: uuid.UUID, status: str, attempt: int = 1) -> None:
    with session_scope() as session:
        job = session.get(TrainingJob, job_id)
        assert job is not None
        job.status, job.attempt = status, attempt


def read_stream(
    client: TestClient, job_id: uuid.UUID, last_event_id: str | None = None
) -> list[Event]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}

    def read() -> list[Event]:
        with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as r:
            assert r.status_code == 200, r.read()
            assert r.headers["content-type"].startswith("text/event-stream")
            return list(parse_events(r.iter_lines()))

    return bounded(20, read)


class TestCursor:
    def test_round_trips(self) -> None:
        cursor = Cursor(1042, 2, "running")
        assert str(cursor) == "1042-2-running"
        assert Cursor.parse(str(cursor)) == cursor

    @pytest.mark.parametrize(
        "text",
        ["", "12", "1-1-done", "1-0-running", "1-1-", "-1-1-queued", "a-1-queued"],
    )
    def test_refuses_ids_the_stream_never_sends(self, text: str) -> None:
        with pytest.raises(ValueError):
            Cursor.parse(text)


def _epoch(epoch: int, attempt: int = 1) -> JobEpochEvent:
    return JobEpochEvent(
        epoch=epoch,
        attempt=attempt,
        metrics={"loss": 0.5},
        layers=None,
        warnings=[],
        created_at=datetime(2026, 1, 1),
    )


def _snapshot(
    status: str,
    rows: list[tuple[int, JobEpochEvent]],
    attempt: int = 1,
    complete: bool = True,
) -> Snapshot:
    state = JobStatusEvent(
        status=status, attempt=attempt, epoch=0, epochs=9, error=None, model_id=None
    )
    return Snapshot(status=state, epochs=rows, complete=complete)


class TestNextEvents:
    def test_a_running_job_says_so_before_its_epochs(self) -> None:
        events, cursor = next_events(
            _snapshot("running", [(7, _epoch(1)), (9, _epoch(2))]), Cursor()
        )
        assert [(e.event, e.id) for e in events] == [
            ("status", "0-1-running"),
            ("epoch", "7-1-running"),
            ("epoch", "9-1-running"),
        ]
        assert cursor == Cursor(9, 1, "running")

    def test_a_final_status_comes_after_the_last_epoch(self) -> None:
        events, cursor = next_events(
            _snapshot("succeeded", [(9, _epoch(2))]), Cursor(7, 1, "running")
        )
        assert [(e.event, e.id) for e in events] == [
            ("epoch", "9-1-running"),
            ("status", "9-1-succeeded"),
        ]
        assert cursor.finished

    def test_a_cut_batch_holds_the_final_status_back(self) -> None:
        snapshot = _snapshot("succeeded", [(9, _epoch(2))], complete=False)
        events, cursor = next_events(snapshot, Cursor(7, 1, "running"))
        assert [e.event for e in events] == ["epoch"]
        assert not cursor.finished

    def test_nothing_new_sends_nothing(self) -> None:
        events, cursor = next_events(_snapshot("running", []), Cursor(9, 1, "running"))
        assert events == [] and cursor == Cursor(9, 1, "running")

    def test_a_requeued_job_sends_the_old_attempt_first(self) -> None:
        rows = [(9, _epoch(3, attempt=1)), (11, _epoch(3, attempt=2))]
        events, _ = next_events(
            _snapshot("running", rows, attempt=2), Cursor(7, 1, "running")
        )
        assert [(e.event, e.id) for e in events] == [
            ("epoch", "9-1-running"),
            ("status", "9-2-running"),
            ("epoch", "11-2-running"),
        ]


class TestStreamRoute:
    def test_a_finished_job_replays_every_epoch_then_ends(
        self, client: TestClient
    ) -> None:
        job_id = add_job(JobStatus.SUCCEEDED, epochs=5)
        add_epochs(job_id, range(1, 6))
        events = read_stream(client, job_id)
        assert [e["data"]["epoch"] for e in events[:-1]] == [1, 2, 3, 4, 5]
        assert events[-1]["event"] == "status"
        assert events[-1]["data"]["status"] == "succeeded"
        assert len({e["id"] for e in events}) == len(events)

    def test_last_event_id_resumes_after_it(self, client: TestClient) -> None:
        job_id = add_job(JobStatus.SUCCEEDED, epochs=5)
        add_epochs(job_id, range(1, 6))
        first = read_stream(client, job_id)
        rest = read_stream(client, job_id, last_event_id=first[1]["id"])
        assert [e["data"]["epoch"] for e in rest[:-1]] == [3, 4, 5]
        assert rest[-1]["id"] == first[-1]["id"]

    def test_after_the_final_status_answers_204(self, client: TestClient) -> None:
        job_id = add_job(JobStatus.CANCELLED)
        final = read_stream(client, job_id)[-1]["id"]
        response = client.get(
            f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": final}
        )
        # 204 is what tells a browser's EventSource to stop reconnecting.
        assert response.status_code == 204

    def test_non_finite_metrics_arrive_as_null(self, client: TestClient) -> None:
        # CASES C12: the stream stays JSON whatever the numbers are.
        job_id = add_job(JobStatus.FAILED, epochs=1)
        add_epochs(job_id, range(1, 2), val_loss=float("nan"), accuracy=float("inf"))
        epoch = read_stream(client, job_id)[0]["data"]
        assert epoch["metrics"]["val_loss"] is None
        assert epoch["metrics"]["accuracy"] is None

    def test_a_long_history_arrives_in_batches_without_gaps(
        self, client: TestClient
    ) -> None:
        total = BATCH_ROWS + 20
        job_id = add_job(JobStatus.SUCCEEDED, epochs=total)
        add_epochs(job_id, range(1, total + 1))
        events = read_stream(client, job_id)
        assert [e["data"]["epoch"] for e in events[:-1]] == list(range(1, total + 1))

    def test_follows_a_job_while_it_trains(self, client: TestClient) -> None:
        job_id = add_job(JobStatus.QUEUED, epochs=6)

        def train() -> None:
            set_status(job_id, JobStatus.RUNNING)
            for epoch in range(1, 7):
                add_epochs(job_id, range(epoch, epoch + 1))
                time.sleep(0.1)
            set_status(job_id, JobStatus.SUCCEEDED)

        worker = threading.Thread(target=train, daemon=True)

        def follow() -> list[Event]:
            events = []
            with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
                for event in parse_events(response.iter_lines()):
                    events.append(event)
                    if len(events) == 1:
                        worker.start()  # training starts once the client follows
            return events

        events = bounded(20, follow)
        worker.join(5)
        statuses = [e["data"]["status"] for e in events if e["event"] == "status"]
        assert statuses[0] == "queued" and statuses[-1] == "succeeded"
        assert [e["data"]["epoch"] for e in events if e["event"] == "epoch"] == [
            1, 2, 3, 4, 5, 6,
        ]  # fmt: skip

    def test_unknown_job_is_404(self, client: TestClient) -> None:
        response = client.get(f"/v1/jobs/{uuid.uuid4()}/events")
        assert response.status_code == 404
        assert response.json()["field"] == "job_id"

    def test_a_foreign_last_event_id_is_422(self, client: TestClient) -> None:
        job_id = add_job()
        response = client.get(
            f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "yesterday"}
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["field"] == "Last-Event-ID"
        assert "reconnect without it" in problem["detail"]
