"""Bring the database schema to the newest revision (run at every start)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from persistence.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url or get_settings().resolved_database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: str | None = None) -> None:
    settings = get_settings()
    if not (url or settings.database_url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")


if __name__ == "__main__":
    upgrade()
