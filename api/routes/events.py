import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from sse_starlette import EventSourceResponse

from api import job_events
from api.auth import TenantDep
from api.deps import SessionDep
from api.errors import InvalidInputError, NotFoundError
from persistence import jobs

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

STREAM_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "Server-Sent Events: `epoch` and `status`, data as JSON",
        "content": {"text/event-stream": {}},
    },
    204: {"description": "Last-Event-ID already holds the job's final status"},
    404: {"description": "No such job"},
    422: {"description": "Last-Event-ID is not an id this stream sent"},
}


@router.get(
    "/{job_id}/events", response_class=EventSourceResponse, responses=STREAM_RESPONSES
)
def job_events_stream(
    job_id: uuid.UUID,
    session: SessionDep,
    tenant: TenantDep,
    last_event_id: Annotated[str | None, Header(max_length=100)] = None,
) -> Response:
    """Stream a job's epochs and status changes until it ends (SSE)."""
    job = jobs.tenant_job(session, job_id, tenant)
    if job is None:
        raise NotFoundError(f"job {job_id} does not exist", field="job_id")
    try:
        cursor = job_events.Cursor.parse(last_event_id or "0-0-")
    except ValueError as error:
        raise InvalidInputError(
            f"Last-Event-ID {last_event_id!r} is not an event id of this stream "
            f"({error}); reconnect without it to start from the first event",
            field="Last-Event-ID",
        ) from error
    if cursor.finished and cursor.status == job.status:
        # 204 tells a browser's EventSource to stop reconnecting.
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return EventSourceResponse(
        job_events.stream(job_id, cursor), ping=job_events.PING_SECONDS
    )
