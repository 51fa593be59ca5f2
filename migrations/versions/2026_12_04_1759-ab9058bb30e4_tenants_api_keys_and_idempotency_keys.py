"""Tenants, API keys and idempotency keys; everything belongs to a tenant.

Rows made before tenants existed belong to the default tenant, the one that
requests without an API key act as.

Revision ID: ab9058bb30e4
Revises: a11f4b62b4bd
Create Date: 2026-12-04 17:59:32.815589
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

DEFAULT_TENANT_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")
TABLES = ("datasets", "jobs", "models")


revision: str = "ab9058bb30e4"
down_revision: str | None = "a11f4b62b4bd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    tenants = sa.table(
        "tenants",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        tenants,
        [{"id": DEFAULT_TENANT_ID, "name": "default", "created_at": datetime.now(UTC)}],
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("lookup", sa.String(length=12), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_keys_lookup"), ["lookup"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_api_keys_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "key"),
    )
    # SQLite keeps a UUID as 32 hex digits; PostgreSQL has a uuid type.
    sqlite = op.get_bind().dialect.name == "sqlite"
    default = DEFAULT_TENANT_ID.hex if sqlite else str(DEFAULT_TENANT_ID)
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "tenant_id", sa.Uuid(), server_default=default, nullable=False
                )
            )
            batch_op.create_index(f"ix_{table}_tenant_id", ["tenant_id"])
            batch_op.create_foreign_key(
                f"{table}_tenant_id_fkey",
                "tenants",
                ["tenant_id"],
                ["id"],
                ondelete="RESTRICT",
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"{table}_tenant_id_fkey", type_="foreignkey")
            batch_op.drop_index(f"ix_{table}_tenant_id")
            batch_op.drop_column("tenant_id")

    op.drop_table("idempotency_keys")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_api_keys_lookup"))

    op.drop_table("api_keys")
    op.drop_table("tenants")
