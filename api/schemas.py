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
    dataset: str
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


# Body of POST /v1/models/{id}/predict: raw feature values, one list per row.
class PredictRequest(_Strict):
    inputs: list[list[FiniteFloat]] = Field(min_length=1)


class PredictResponse(BaseModel):
    predictions: list[Any]
    probabilities: list[list[float]] | None = None


class Health(BaseModel):
    status: Literal["ok"]
