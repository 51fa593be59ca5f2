"""A job's progress as Server-Sent Events, read from the database.

The database is the only record (DESIGN.md), so a stream is a view of two
things in it: the job's epoch rows, in the order of their autoincrement id,
and the status on the job row. Every event's id is a cursor that names both,
``<epoch row id>-<attempt>-<status>``: the last epoch row and the last status
the client was sent. A client that reconnects with ``Last-Event-ID`` gets
exactly what came after, and one without it starts from nothing, so it first
receives every epoch so far.

The ids order epochs and status changes on one line: a status is sent before
the epochs of its attempt, except a final status, which is sent only once
every epoch row is out. Each poll reads the job and its new rows in a single
SELECT, so a final status is never seen without the epochs committed before it.
"""

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import anyio
from sqlalchemy import and_, select
from sse_starlette import ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.schemas import JobEpochEvent, JobStatusEvent
from persistence.db import session_scope
from persistence.models import EpochMetrics, JobStatus, TrainedModel, TrainingJob

# The worker commits an epoch every few milliseconds to minutes; half a second
# keeps a chart live while costing one indexed SELECT per stream per poll.
POLL_SECONDS = 0.5
# Proxies close idle connections after 30 to 60 s; a comment line every 15 s
# keeps the stream open while a long epoch runs.
PING_SECONDS = 15
# Epoch rows sent per poll; a client replaying a 10,000-epoch job gets them in
# a few quick rounds rather than one huge query.
BATCH_ROWS = 500
# Browsers wait this long (ms) before reconnecting a dropped stream.
RETRY_MS = 2000

_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, *JobStatus.FINISHED)
_CURSOR = re.compile(r"(\d{1,18})-(\d{1,9})-([a-z]*)")


@dataclass(frozen=True)
class Cursor:
    """The last epoch row id and the last (attempt, status) a client was sent."""

    epoch_id: int = 0
    attempt: int = 0
    status: str = ""

    def __str__(self) -> str:
        return f"{self.epoch_id}-{self.attempt}-{self.status}"

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        """Read an event id back; ValueError for anything this stream never sent."""
        match = _CURSOR.fullmatch(text.strip())
        if match is None:
            raise ValueError("expected <epoch row id>-<attempt>-<status>")
        epoch_id, attempt, status = match.groups()
        # Attempt 0 with no status: epochs of an earlier attempt were sent
        # before the first status.
        if status not in (*_STATUSES, "") or (attempt == "0") != (status == ""):
            raise ValueError(f"no status {status!r} at attempt {attempt}")
        return cls(int(epoch_id), int(attempt), status)

    @property
    def finished(self) -> bool:
        return self.status in JobStatus.FINISHED


@dataclass(frozen=True)
class Snapshot:
    """One poll: the job row's state and its epoch rows after the cursor."""

    status: JobStatusEvent
    epochs: list[tuple[int, JobEpochEvent]]
    # False when BATCH_ROWS cut the rows short: more are waiting.
    complete: bool


def read_snapshot(job_id: uuid.UUID, after: int) -> Snapshot | None:
    """The job and its epoch rows with id > ``after``; None if it is gone."""
    query = (
        select(
            TrainingJob.status,
            TrainingJob.attempt,
            TrainingJob.epoch,
            TrainingJob.epochs,
            TrainingJob.error,
            EpochMetrics,
        )
        .outerjoin(
            EpochMetrics,
            and_(EpochMetrics.job_id == TrainingJob.id, EpochMetrics.id > after),
        )
        .where(TrainingJob.id == job_id)
        .order_by(EpochMetrics.id)
        .limit(BATCH_ROWS)
    )
    with session_scope() as session:
        rows = session.execute(query).all()
        if not rows:
            return None
        status, attempt, epoch, epochs, error, _ = rows[0]
        model_id = None
        if status == JobStatus.SUCCEEDED:
            model_id = session.scalar(
                select(TrainedModel.id).where(TrainedModel.job_id == job_id)
            )
        epoch_rows = [row[-1] for row in rows if row[-1] is not None]
        return Snapshot(
            status=JobStatusEvent(
                status=status,
                attempt=attempt,
                epoch=epoch,
                epochs=epochs,
                error=error,
                model_id=model_id,
            ),
            epochs=[(row.id, _epoch_event(row)) for row in epoch_rows],
            complete=len(rows) < BATCH_ROWS,
        )


def _epoch_event(row: EpochMetrics) -> JobEpochEvent:
    return JobEpochEvent(
        epoch=row.epoch,
        attempt=row.attempt,
        metrics=row.metrics,
        layers=row.layers,
        warnings=row.warnings or [],
        created_at=row.created_at,
    )


def next_events(
    snapshot: Snapshot, cursor: Cursor
) -> tuple[list[ServerSentEvent], Cursor]:
    """The events a client at ``cursor`` has not had yet, and its new cursor."""
    events: list[ServerSentEvent] = []
    state = snapshot.status
    changed = (state.attempt, state.status) != (cursor.attempt, cursor.status)
    final = state.status in JobStatus.FINISHED

    def send_epochs(rows: list[tuple[int, JobEpochEvent]]) -> None:
        nonlocal cursor
        for row_id, data in rows:
            cursor = replace(cursor, epoch_id=row_id)
            events.append(_event("epoch", data.model_dump_json(), cursor))

    def send_status() -> None:
        nonlocal cursor
        cursor = replace(cursor, attempt=state.attempt, status=state.status)
        events.append(_event("status", state.model_dump_json(), cursor))

    # Rows of an earlier attempt precede the status of a requeued job.
    send_epochs([row for row in snapshot.epochs if row[1].attempt < state.attempt])
    if changed and not final:
        send_status()
    send_epochs([row for row in snapshot.epochs if row[1].attempt >= state.attempt])
    if changed and final and snapshot.complete:
        send_status()
    return events, cursor


def _event(name: str, data: str, cursor: Cursor) -> ServerSentEvent:
    return ServerSentEvent(data=data, event=name, id=str(cursor))


async def stream(job_id: uuid.UUID, cursor: Cursor) -> AsyncIterator[ServerSentEvent]:
    """Events from ``cursor`` on, until the job has ended and said so.

    Each poll runs its query in a worker thread with a session of its own, so
    the event loop never waits on the database (CASES C11).
    """
    yield ServerSentEvent(retry=RETRY_MS)
    while True:
        snapshot = await run_in_threadpool(read_snapshot, job_id, cursor.epoch_id)
        if snapshot is None:
            return
        events, cursor = next_events(snapshot, cursor)
        for event in events:
            yield event
        if cursor.finished:
            return
        if snapshot.complete:
            await anyio.sleep(POLL_SECONDS)
