"""Idempotency-Key on the POSTs that create things (jobs, datasets).

The first request's answer is stored with what it created, in one
transaction; a retry with the same key and the same request gets that answer
again (with ``Idempotent-Replayed: true``) and creates nothing. Two first
requests racing with one key collide on the key's primary key at commit: the
loser gets 409 and nothing of it is kept.
"""

import uuid
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.errors import InvalidInputError
from persistence import idempotency

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=idempotency.MAX_KEY_LENGTH,
        description="retrying with the same key returns the first answer",
    ),
]


def _fingerprint(request: Request, body: Any) -> str:
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    return idempotency.fingerprint(request.method, request.url.path, body)


def replay(
    session: Any, tenant: uuid.UUID, key: str | None, request: Request, body: Any
) -> JSONResponse | None:
    """The stored answer for a retried request, or None for a new one."""
    if key is None:
        return None
    record = idempotency.find(session, tenant, key)
    if record is None:
        return None
    if record.request_sha256 != _fingerprint(request, body):
        raise InvalidInputError(
            f"Idempotency-Key {key!r} was already used for a different request; "
            "send a new key with a new request",
            field="Idempotency-Key",
        )
    headers = {"Idempotent-Replayed": "true"}
    if record.location:
        headers["Location"] = record.location
    return JSONResponse(record.body, status_code=record.status_code, headers=headers)


def remember(
    session: Any,
    tenant: uuid.UUID,
    key: str | None,
    request: Request,
    body: Any,
    status_code: int,
    answer: Any,
    location: str | None,
) -> None:
    if key is not None:
        idempotency.remember(
            session,
            tenant,
            key,
            _fingerprint(request, body),
            status_code,
            answer,
            location,
        )
