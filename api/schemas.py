"""Request and response bodies, one family per resource (STYLE.md point 10)."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


JobStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]


# A job as GET /v1/jobs/{id} returns it.
class TrainingJobPublic(BaseModel):
    id: uuid.UUID
    # Null once the uploaded dataset has been deleted.
    dataset: str | None
    status: JobStatusName
    epoch: int
    epochs: int
    progress: float
    metrics: dict[str, float | None] | None
    error: str | None
    warnings: list[str]
    cancel_requested: bool
    device: Literal["cpu", "gpu", "auto"]
    queue: str
    model_id: uuid.UUID | None
    spec: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


class TrainingJobsPublic(BaseModel):
    data: list[TrainingJobPublic]
    count: int


class EpochMetricsPublic(BaseModel):
    epoch: int
    attempt: int
    metrics: dict[str, float | None]
    layers: dict[str, dict[str, float | None]] | None
    created_at: datetime


class EpochMetricsListPublic(BaseModel):
    data: list[EpochMetricsPublic]
    count: int


# A dataset in GET /v1/datasets and the answer to an upload.
class DatasetPublic(BaseModel):
    id: str
    name: str
    builtin: bool
    task: Literal["classification", "regression"]
    target: str
    n_rows: int
    n_features: int
    features: list[str]
    classes: list[Any] | None


# GET /v1/datasets/{id}: what reading the file found, column by column.
class DatasetColumnPublic(BaseModel):
    name: str
    type: Literal["numeric", "categorical", "boolean"]
    missing: int
    first_missing_row: int | None = None
    min: float | None = None
    max: float | None = None
    categories: dict[str, int] | None = None
    n_categories: int | None = None


class DatasetDetailPublic(DatasetPublic):
    format: str
    columns: list[DatasetColumnPublic]
    class_counts: dict[str, int] | None
    preview: list[dict[str, Any]]
    options: dict[str, Any] | None
    size_bytes: int | None
    sha256: str | None
    created_at: datetime | None


class DatasetsPublic(BaseModel):
    data: list[DatasetPublic]
    count: int


class ModelPublic(BaseModel):
    id: uuid.UUID
    job_id: uuid.UUID
    task: Literal["classification", "regression"]
    features: list[str]
    classes: list[Any] | None
    spec: dict[str, Any]
    metrics: dict[str, float | None] | None
    test_metrics: dict[str, float | None] | None
    confusion_matrix: list[list[int]] | None
    weights_sha256: str
    created_at: datetime


Cell = FiniteFloat | bool | str | None


# Body of POST /v1/models/{id}/predict: rows as lists of feature values in the
# model's order, or as records keyed by feature name in any order.
class PredictRequest(_Strict):
    inputs: list[list[FiniteFloat]] | list[dict[str, Cell]] = Field(min_length=1)


class PredictResponse(BaseModel):
    predictions: list[Any]
    probabilities: list[list[float]] | None = None


class Health(BaseModel):
    status: Literal["ok"]


# The data of an "epoch" event in GET /v1/jobs/{id}/events.
class JobEpochEvent(BaseModel):
    epoch: int
    attempt: int
    metrics: dict[str, float | None]
    layers: dict[str, dict[str, float | None]] | None
    warnings: list[str]
    created_at: datetime


# The data of a "status" event in GET /v1/jobs/{id}/events.
class JobStatusEvent(BaseModel):
    status: JobStatusName
    attempt: int
    epoch: int
    epochs: int
    error: str | None
    model_id: uuid.UUID | None


# GET /readyz: each dependency's state, "ok" or why it is down.
class Readiness(BaseModel):
    status: Literal["ready"]
    checks: dict[str, str]
