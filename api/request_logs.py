"""Request logs with context: a request id on every line, and the job or model id.

``RequestContext`` is plain ASGI middleware, so the handler runs in the task
that bound the context: every log line of the request (uvicorn's access line,
the route's own events, a crash) carries ``request_id``, and handlers run in
threads inherit it. ``bind_path_ids`` adds ``job_id`` or ``model_id`` once
routing has found them. A client may send its own ``X-Request-ID``; the
response always carries the one used.
"""

import re
import time
import uuid

import structlog
from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Probes and scrapes arrive every few seconds; their lines go to debug.
_QUIET_PATHS = ("/healthz", "/readyz", "/metrics", "/static/")
_PATH_IDS = ("job_id", "model_id")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _CLIENT_REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


class RequestContext:
    """Binds ``request_id`` for the request and logs one line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope["path"]
            quiet = path.startswith(_QUIET_PATHS)
            (log.debug if quiet else log.info)(
                "request.finished",
                method=scope["method"],
                path=path,
                status=status,
                duration_s=round(time.perf_counter() - started, 4),
            )


async def bind_path_ids(request: Request) -> None:
    """Put the route's job or model id into every log line of the request."""
    # async, so it runs in the request's own task and context, not a copy.
    ids = {
        name: str(request.path_params[name])
        for name in _PATH_IDS
        if name in request.path_params
    }
    if ids:
        structlog.contextvars.bind_contextvars(**ids)
