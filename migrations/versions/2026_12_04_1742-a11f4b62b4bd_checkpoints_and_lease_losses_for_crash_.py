"""Checkpoints and lease losses for crash-safe training.

Revision ID: a11f4b62b4bd
Revises: 240f64e1012b
Create Date: 2026-12-04 17:42:39.306970
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a11f4b62b4bd"
down_revision: str | None = "240f64e1012b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id"),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        # Jobs from before leases were counted have lost none.
        batch_op.add_column(
            sa.Column("lease_losses", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("lease_losses")

    op.drop_table("checkpoints")
