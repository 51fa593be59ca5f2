"""What the client returns: datasets, jobs, metrics, models and predictions.

Each is a dataclass built from the API's JSON. Fields the API adds later are
ignored, so an older client keeps working against a newer server.
"""

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from client.errors import DescentError

if TYPE_CHECKING:
    from client.http import Client

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})

# Preferred validation metric to show for a job, best first.
VALIDATION_METRICS = ("val_accuracy", "val_r2", "val_loss")


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _known_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {item.name for item in dataclasses.fields(cls) if item.init}
    return {key: value for key, value in data.items() if key in names}


@dataclass(frozen=True)
class Dataset:
    """A built-in or uploaded dataset, as ``GET /v1/datasets`` lists it."""

    id: str
    name: str
    builtin: bool
    task: str
    target: str
    n_rows: int
    n_features: int
    features: list[str]
    classes: list[Any] | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Dataset":
        return cls(**_known_fields(cls, data))


@dataclass(frozen=True)
class EpochMetrics:
    """One epoch's metrics from ``GET /v1/jobs/{id}/metrics``."""

    epoch: int
    attempt: int
    metrics: dict[str, float | None]
    created_at: datetime | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "EpochMetrics":
        values = _known_fields(cls, data)
        values["created_at"] = _parse_time(data.get("created_at"))
        return cls(**values)


@dataclass(frozen=True)
class Model:
    """A trained model: its task, the features it takes, in order, and classes."""

    id: str
    job_id: str
    task: str
    features: list[str]
    classes: list[Any] | None
    spec: dict[str, Any]
    metrics: dict[str, float | None] | None
    weights_sha256: str
    created_at: datetime | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Model":
        values = _known_fields(cls, data)
        values["created_at"] = _parse_time(data.get("created_at"))
        return cls(**values)


@dataclass(frozen=True)
class Prediction:
    """Predicted labels or values, one per row, with class probabilities.

    ``probabilities[i][j]`` is row ``i``'s probability of the model's
    ``classes[j]``; it is None for regression.
    """

    predictions: list[Any]
    probabilities: list[list[float]] | None = None


_JOB_TIMES = ("created_at", "started_at", "finished_at", "updated_at")


@dataclass
class Job:
    """A training job; ``refresh()`` and ``wait()`` update it in place."""

    id: str
    status: str
    dataset: str = ""
    epoch: int = 0
    epochs: int = 0
    progress: float = 0.0
    metrics: dict[str, float | None] | None = None
    error: str | None = None
    cancel_requested: bool = False
    model_id: str | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    _client: "Client | None" = field(default=None, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any], client: "Client | None") -> "Job":
        job = cls(id=str(data["id"]), status=str(data["status"]), _client=client)
        job._update(data)
        return job

    def _update(self, data: dict[str, Any]) -> None:
        for name, value in _known_fields(type(self), data).items():
            if name in _JOB_TIMES:
                value = _parse_time(value)
            elif name in ("id", "model_id") and value is not None:
                value = str(value)
            setattr(self, name, value)

    @property
    def done(self) -> bool:
        """The job has stopped: succeeded, failed or cancelled."""
        return self.status in TERMINAL_STATUSES

    @property
    def validation_metric(self) -> tuple[str, float | None] | None:
        """The validation metric worth showing first, as (name, value)."""
        for name in VALIDATION_METRICS:
            if self.metrics and name in self.metrics:
                return name, self.metrics[name]
        return None

    def _bound(self) -> "Client":
        if self._client is None:
            raise RuntimeError(
                f"job {self.id} is not bound to a Client; get it from Client.job()"
            )
        return self._client

    def refresh(self) -> Self:
        """Read the job's current state from the API."""
        self._update(self._bound().get_json(f"/v1/jobs/{self.id}"))
        return self

    def cancel(self) -> Self:
        """Cancel the job; a running one stops between two batches."""
        self._update(self._bound().post_json(f"/v1/jobs/{self.id}/cancel"))
        return self

    def history(self) -> list[EpochMetrics]:
        """Every finished epoch's metrics, in order."""
        return self._bound().metrics(self.id)

    def wait(
        self,
        poll_s: float = 0.5,
        timeout_s: float | None = None,
        on_update: Callable[["Job"], None] | None = None,
    ) -> Self:
        """Poll until the job succeeds, fails or is cancelled, then return it.

        ``on_update`` is called with the job after every poll. A job that
        fails is returned, not raised: read ``status`` and ``error``.
        Raises ``DescentError`` when ``timeout_s`` passes first.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            self.refresh()
            if on_update is not None:
                on_update(self)
            if self.done:
                return self
            if deadline is not None and time.monotonic() >= deadline:
                raise DescentError(
                    f"job {self.id} is still {self.status} after {timeout_s} s; "
                    "call wait() again to keep waiting"
                )
            time.sleep(poll_s)
