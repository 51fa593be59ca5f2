"""Datasets stored as their file in chunks, with read options and a profile.

Datasets uploaded before keep their data: the npz archive of x and y they
held becomes the first chunk of an npz-format dataset.

Revision ID: 240f64e1012b
Revises: 9b37e0010cff
Create Date: 2026-12-04 17:36:22.076558
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "240f64e1012b"
down_revision: str | None = "9b37e0010cff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# SQLite names no constraint; batch mode can still find the foreign key by
# this convention, the same one PostgreSQL applies by default.
NAMING = {"fk": "%(table_name)s_%(column_0_name)s_fkey"}


def _retarget_dataset_key(ondelete: str) -> None:
    with op.batch_alter_table("jobs", naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint("jobs_dataset_id_fkey", type_="foreignkey")
        batch_op.create_foreign_key(
            "jobs_dataset_id_fkey",
            "datasets",
            ["dataset_id"],
            ["id"],
            ondelete=ondelete,
        )


def upgrade() -> None:
    op.create_table(
        "dataset_chunks",
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dataset_id", "seq"),
    )
    op.execute(
        "INSERT INTO dataset_chunks (dataset_id, seq, data) "
        "SELECT id, 0, data FROM datasets"
    )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "format", sa.String(length=10), server_default="npz", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("options", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.add_column(
            sa.Column("profile", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.alter_column(
            "size_bytes",
            existing_type=sa.INTEGER(),
            type_=sa.BigInteger(),
            existing_nullable=False,
        )
        batch_op.drop_column("data")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.alter_column("format", server_default="csv")
    _retarget_dataset_key("SET NULL")


def downgrade() -> None:
    _retarget_dataset_key("RESTRICT")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE datasets SET data = (SELECT data FROM dataset_chunks "
        "WHERE dataset_chunks.dataset_id = datasets.id AND seq = 0)"
    )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.alter_column(
            "size_bytes",
            existing_type=sa.BigInteger(),
            type_=sa.INTEGER(),
            existing_nullable=False,
        )
        batch_op.drop_column("profile")
        batch_op.drop_column("options")
        batch_op.drop_column("format")
    op.drop_table("dataset_chunks")
