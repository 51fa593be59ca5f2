"""Idempotency-Key: a retried POST gets the first answer and creates nothing.

The first request with a key stores its answer in the same transaction as what
it created; a retry with the same key and the same request gets that answer
back; the same key with a different request is refused, since the client has
mixed up its keys.
"""

import hashlib
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def find(session: Session, tenant_id: uuid.UUID, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.key == key
        )
    )


def remember(
    session: Session,
    tenant_id: uuid.UUID,
    key: str,
    request_sha256: str,
    status_code: int,
    body: Any,
    location: str | None,
) -> None:
    session.add(
        IdempotencyRecord(
            tenant_id=tenant_id,
            key=key,
            request_sha256=request_sha256,
            status_code=status_code,
            body=body,
            location=location,
        )
    )
