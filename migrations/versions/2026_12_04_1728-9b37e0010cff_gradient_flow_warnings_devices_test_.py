"""Gradient flow per epoch, job warnings and devices, test metrics, workers.

Revision ID: 9b37e0010cff
Revises: 032cc63af6c1
Create Date: 2026-12-04 17:28:17.139099
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b37e0010cff"
down_revision: str | None = "032cc63af6c1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workers_heartbeat_at"), ["heartbeat_at"], unique=False
        )

    with op.batch_alter_table("epoch_metrics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("layers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=True))

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        # Jobs queued before devices existed ran on the CPU.
        batch_op.add_column(
            sa.Column(
                "device", sa.String(length=10), nullable=False, server_default="cpu"
            )
        )
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=True))

    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.add_column(sa.Column("test_metrics", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("confusion_matrix", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_column("confusion_matrix")
        batch_op.drop_column("test_metrics")

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("warnings")
        batch_op.drop_column("device")

    with op.batch_alter_table("epoch_metrics", schema=None) as batch_op:
        batch_op.drop_column("warnings")
        batch_op.drop_column("layers")

    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workers_heartbeat_at"))

    op.drop_table("workers")
