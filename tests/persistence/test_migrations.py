"""Alembic's migrations create the schema the models describe, and undo it,
on both SQLite and PostgreSQL."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from persistence.migrate import alembic_config, upgrade
from persistence.models import Base
from tests.fixtures.servers import require_servers, scratch_postgres_database

TABLES = {
    "alembic_version",
    "datasets",
    "jobs",
    "epoch_metrics",
    "models",
    "workers",
    "dataset_chunks",
    "checkpoints",
    "tenants",
    "api_keys",
    "idempotency_keys",
}


def check_round_trip(url: str) -> None:
    upgrade(url)
    engine = sa.create_engine(url)
    try:
        assert set(sa.inspect(engine).get_table_names()) == TABLES
        with engine.connect() as connection:
            # No difference between the migrated schema and the models.
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
        command.downgrade(alembic_config(url), "base")
        assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
        upgrade(url)
        assert set(sa.inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()


def test_sqlite_up_down_up(tmp_path: Path) -> None:
    check_round_trip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgres_up_down_up() -> None:
    require_servers()
    with scratch_postgres_database() as url:
        check_round_trip(url)
