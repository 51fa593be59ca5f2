"""Tenants and their API keys.

A key is shown once, when it is made; the database keeps only its SHA-256
(keys are 256 random bits, so a fast hash is enough: there is nothing to
brute-force) and its first characters, to find the row. Keys are compared
in constant time. Run ``python -m persistence.tenants --help`` on a machine
that reaches the database to create and revoke keys.
"""

import argparse
import hashlib
import hmac
import secrets
import sys
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import ApiKey, Tenant, utcnow

KEY_PREFIX = "dsk_"
# Characters of a key stored in clear to look its row up: "dsk_" and 8 more.
LOOKUP_CHARS = 12


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tenant_by_name(session: Session, name: str, create: bool = False) -> Tenant | None:
    tenant = session.scalar(select(Tenant).where(Tenant.name == name))
    if tenant is None and create:
        tenant = Tenant(id=uuid.uuid4(), name=name)
        session.add(tenant)
        session.flush()
    return tenant


def create_key(
    session: Session, tenant_name: str, label: str = ""
) -> tuple[ApiKey, str]:
    """A new key for the tenant (made if new); the clear key is returned once."""
    tenant = tenant_by_name(session, tenant_name, create=True)
    assert tenant is not None
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        label=label,
        lookup=token[:LOOKUP_CHARS],
        digest=_digest(token),
    )
    session.add(key)
    session.flush()
    return key, token


def revoke_key(session: Session, key_id: uuid.UUID) -> bool:
    key = session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    return True


def authenticate(session: Session, token: str) -> uuid.UUID | None:
    """The tenant whose live key this is, or None."""
    if not token.startswith(KEY_PREFIX) or len(token) > 200:
        return None
    digest = _digest(token)
    candidates = session.scalars(
        select(ApiKey).where(
            ApiKey.lookup == token[:LOOKUP_CHARS], ApiKey.revoked_at.is_(None)
        )
    )
    for key in candidates:
        if hmac.compare_digest(key.digest, digest):
            return key.tenant_id
    return None


def main(argv: list[str] | None = None) -> int:
    from persistence.db import session_scope

    parser = argparse.ArgumentParser(
        prog="python -m persistence.tenants", description="Manage API keys."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="make a key for a tenant")
    create.add_argument("--tenant", required=True, help="the tenant's name")
    create.add_argument("--label", default="", help="what the key is for")
    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id", type=uuid.UUID)
    args = parser.parse_args(argv)
    with session_scope() as session:
        if args.command == "create":
            key, token = create_key(session, args.tenant, args.label)
            sys.stdout.write(f"key id {key.id} for tenant {args.tenant!r}:\n{token}\n")
            sys.stdout.write("Store it now: it is not shown again.\n")
            return 0
        if revoke_key(session, args.key_id):
            sys.stdout.write(f"revoked {args.key_id}\n")
            return 0
    sys.stderr.write(f"no live key {args.key_id}\n")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
