"""One settings object for every Descent process, read from ``DESCENT_*`` variables."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

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
    # "required": every /v1 request needs an API key (docker-compose sets it);
    # "optional": requests without a key act as the default tenant.
    auth: Literal["required", "optional"] = "optional"
    max_queued_jobs_per_tenant: int = Field(default=100, ge=1)

    # Sizes a user controls, each bounded.
    max_json_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    # A JSON upload is parsed whole, so its bound is tighter.
    max_json_upload_bytes: int = Field(default=32 * 1024 * 1024, ge=1)
    # Uncompressed bytes an NPZ archive may declare (zip bombs are refused).
    max_dataset_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    max_dataset_rows: int = Field(default=2_000_000, ge=1)
    # Feature values a job may carry inline instead of naming a dataset.
    max_inline_cells: int = Field(default=100_000, ge=1)
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

    # Crash safety (worker/lease.py explains the moves). A checkpoint is stored
    # every so many epochs or seconds of training, whichever comes first.
    checkpoint_every_epochs: int = Field(default=10, ge=1)
    checkpoint_every_seconds: float = Field(default=60.0, gt=0)
    # A running job whose heartbeat is older than this has lost its worker; a
    # worker renews its lease four times per timeout.
    lease_timeout_seconds: float = Field(default=30.0, gt=0)
    # A job whose lease dies this many times fails instead of being requeued
    # (a crash loop); requeues on a graceful shutdown do not count.
    max_attempts: int = Field(default=3, ge=1)
    # How often each worker's reaper looks for dead leases and lost messages.
    reaper_interval_seconds: float = Field(default=10.0, gt=0)
    # A job left queued this long while its broker queue is empty lost its
    # message (a send that died with its process) and is sent again.
    resend_after_seconds: float = Field(default=60.0, gt=0)
    # Wall-clock limit of one attempt: Celery's soft time limit, which fails
    # the job; its hard limit and Redis's visibility timeout follow from it.
    job_time_limit_seconds: float = Field(default=24 * 3600.0, gt=0)
    # On SIGTERM, how long training may run on to finish its epoch and store
    # that checkpoint before it stops mid-epoch (docker stop waits 10 s).
    shutdown_grace_seconds: float = Field(default=5.0, ge=0)
    # Pool processes of the worker ``make run`` starts: jobs trained at once.
    worker_concurrency: int = Field(default=1, ge=1)

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
