"""Caps on request bodies, enforced before and while a body streams in.

A declared ``Content-Length`` over the cap is answered 413 at once, without
reading the body; a body that streams past the cap stops being read there,
and the request ends 413. Uploads to ``POST /v1/datasets`` get the dataset
size limit (plus room for the multipart framing); every other body gets the
JSON limit.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from persistence.settings import get_settings

# Multipart boundaries and the small form fields beside the file.
MULTIPART_OVERHEAD_BYTES = 1024 * 1024


def limit_for(scope: Scope) -> tuple[int, str]:
    settings = get_settings()
    if scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/datasets":
        limit = settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
        return limit, "DESCENT_MAX_UPLOAD_BYTES"
    return settings.max_json_body_bytes, "DESCENT_MAX_JSON_BODY_BYTES"


class BodyLimit:
    """ASGI middleware: 413 for a request body over its cap."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = limit_for(scope)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = problem(
                413,
                "payload-too-large",
                "Payload too large",
                f"the request body is {int(declared)} bytes; the limit is {limit} "
                f"({setting})",
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Starlette and FastAPI let an HTTPException raised while the
                    # body is read reach the error handlers unchanged.
                    raise HTTPException(
                        413,
                        f"the request body passed {limit} bytes; the limit is "
                        f"{limit} ({setting})",
                    )
            return message

        await self.app(scope, counted, send)
