"""Serving predictions from a bounded cache of loaded models."""

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

import core
from api.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from api.schemas import PredictResponse
from core import fused
from core.errors import DataError
from persistence.models import TrainedModel

log = structlog.get_logger(__name__)


def compile_in_background() -> None:
    """Compile the prediction loops (core.fused) in a thread, as the API starts.

    Otherwise the first prediction in the process would wait 1.5 s for them;
    a request that arrives meanwhile waits only for what is left.
    """
    threading.Thread(target=_compile, name="compile-loops", daemon=True).start()


def _compile() -> None:
    seconds = fused.warm_up(training=False, inference=True)
    log.info("api.loops_compiled", duration_s=round(seconds, 2))


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to predict, with what a request checks before using it."""

    model: core.Model
    features: list[str]
    tenant_id: uuid.UUID


class ModelCache:
    """The most recently used models, loaded once; safe across threads.

    A hit needs no database round trip at all: under load, predictions then
    never wait for a pooled connection.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._models: OrderedDict[uuid.UUID, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, session: Session, model_id: uuid.UUID, tenant_id: uuid.UUID
    ) -> LoadedModel:
        with self._lock:
            loaded = self._models.get(model_id)
            if loaded is not None:
                self._models.move_to_end(model_id)
        if loaded is None:
            loaded = self._load(session, model_id)
        # Another tenant's model answers exactly as one that does not exist.
        if loaded.tenant_id != tenant_id:
            raise NotFoundError(f"model {model_id} does not exist", "model_id")
        return loaded

    def _load(self, session: Session, model_id: uuid.UUID) -> LoadedModel:
        row = session.execute(
            select(
                TrainedModel.weights, TrainedModel.features, TrainedModel.tenant_id
            ).where(TrainedModel.id == model_id)
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"model {model_id} does not exist", "model_id")
        loaded = LoadedModel(core.loads(row.weights), list(row.features), row.tenant_id)
        with self._lock:
            self._models[model_id] = loaded
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        return loaded


def predict(
    model: core.Model,
    features: list[str],
    rows: list[list[float]] | list[dict[str, Any]],
    max_rows: int,
) -> PredictResponse:
    if len(rows) > max_rows:
        raise PayloadTooLargeError(
            f"{len(rows)} rows in one request; the limit is {max_rows} "
            "(DESCENT_MAX_PREDICTION_ROWS)",
            field="inputs",
        )
    try:
        if rows and isinstance(rows[0], dict):
            result = _predict_records(model, features, rows)  # type: ignore[arg-type]
        else:
            result = _predict_rows(model, features, rows)  # type: ignore[arg-type]
    except DataError as error:
        field = "inputs" if error.row is None else f"inputs[{error.row}]"
        if error.column:
            field += f".{error.column}"
        raise InvalidInputError(error.message, field=field) from None
    except ValueError as error:
        raise InvalidInputError(str(error), field="inputs") from None
    probabilities = (
        result.probabilities.tolist() if result.probabilities is not None else None
    )
    return PredictResponse(predictions=result.predictions, probabilities=probabilities)


def _predict_rows(
    model: core.Model, features: list[str], rows: list[list[float]]
) -> core.Prediction:
    width = len(features)
    for index, row in enumerate(rows):
        if len(row) != width:
            shown = ", ".join(features[:10]) + (", ..." if width > 10 else "")
            raise InvalidInputError(
                f"row {index} has {len(row)} values; the model takes {width} "
                f"features ({shown})",
                field=f"inputs[{index}]",
            )
    return model.predict(np.asarray(rows, dtype=np.float64))


def _predict_records(
    model: core.Model, features: list[str], records: list[dict[str, Any]]
) -> core.Prediction:
    known = set(features)
    for index, record in enumerate(records):
        absent = [name for name in features if name not in record]
        if absent:
            raise InvalidInputError(
                f"record {index} lacks feature {absent[0]!r}"
                + (f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""),
                field=f"inputs[{index}].{absent[0]}",
            )
        extra = [name for name in record if name not in known]
        if extra:
            raise InvalidInputError(
                f"record {index} has {extra[0]!r}, which is not a feature of this "
                f"model; its features are {', '.join(features[:20])}",
                field=f"inputs[{index}].{extra[0]}",
            )
    if model.table_encoder is not None:
        return model.predict_records(records)
    matrix = np.empty((len(records), len(features)))
    for index, record in enumerate(records):
        for column, name in enumerate(features):
            value = record[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInputError(
                    f"record {index}, feature {name!r}: {value!r} is not a number",
                    field=f"inputs[{index}].{name}",
                )
            matrix[index, column] = value
    return model.predict(matrix)
