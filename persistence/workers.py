"""Which workers are alive, and on which queues: a heartbeat row per worker.

The API reads it to refuse a GPU job when no GPU worker is running, rather
than leave the job waiting forever.
"""

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from persistence.models import Worker, utcnow

HEARTBEAT_SECONDS = 15.0
# A worker missing three heartbeats in a row is taken for dead.
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)


def beat(session: Session, name: str, queues: list[str]) -> None:
    """Insert or refresh this worker's row."""
    row = session.get(Worker, name)
    if row is None:
        session.add(Worker(name=name, queues=queues))
    else:
        row.queues = queues
        row.heartbeat_at = utcnow()


def leave(session: Session, name: str) -> None:
    session.execute(delete(Worker).where(Worker.name == name))


def live_queues(session: Session) -> set[str]:
    """Queues consumed by at least one worker that beat recently."""
    rows = session.scalars(
        select(Worker.queues).where(Worker.heartbeat_at >= utcnow() - STALE_AFTER)
    )
    return {queue for queues in rows for queue in queues}
