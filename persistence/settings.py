"""One settings object for every Descent process, read from ``DESCENT_*`` variables."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, computed_field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Deployment settings; the embedded default needs none of them set."""

    model_config = SettingsConfigDict(
        env_prefix="DESCENT_", env_file=".env", extra="ignore"
    )

    # Where the embedded default keeps its SQLite file and broker folders.
    data_dir: Path = Path("var")
    database_url: str = ""
    broker_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True

    # Sizes a user controls, each bounded.
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    max_dataset_rows: int = Field(default=2_000_000, ge=1)
    max_dataset_columns: int = Field(default=10_000, ge=1)
    max_layers: int = Field(default=64, ge=1)
    max_units: int = Field(default=8192, ge=1)
    max_parameters: int = Field(default=50_000_000, ge=1)
    max_epochs: int = Field(default=10_000, ge=1)
    max_batch_size: int = Field(default=65_536, ge=1)
    max_prediction_rows: int = Field(default=10_000, ge=1)
    # Models kept loaded in each API process for prediction.
    model_cache_size: int = Field(default=32, ge=1)

    # The worker reads the cancel flag at most this often (seconds).
    cancel_poll_seconds: float = Field(default=0.5, gt=0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'descent.db').resolve()}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def broker_folder(self) -> Path:
        return (self.data_dir / "broker").resolve()


@lru_cache
def get_settings() -> Settings:
    return Settings()
