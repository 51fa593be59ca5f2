"""Serving predictions from a bounded cache of loaded models."""

import threading
import uuid
from collections import OrderedDict

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

import core
from api.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from api.schemas import PredictResponse
from persistence.models import TrainedModel


class ModelCache:
    """The most recently used models, loaded once; safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._models: OrderedDict[uuid.UUID, core.Model] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: Session, model_id: uuid.UUID) -> core.Model:
        with self._lock:
            model = self._models.get(model_id)
            if model is not None:
                self._models.move_to_end(model_id)
                return model
        blob = session.scalar(
            select(TrainedModel.weights).where(TrainedModel.id == model_id)
        )
        if blob is None:
            raise NotFoundError(f"model {model_id} does not exist")
        model = core.loads(blob)
        with self._lock:
            self._models[model_id] = model
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        return model


def predict(
    model: core.Model, features: list[str], rows: list[list[float]], max_rows: int
) -> PredictResponse:
    if len(rows) > max_rows:
        raise PayloadTooLargeError(
            f"{len(rows)} rows in one request; the limit is {max_rows} "
            "(DESCENT_MAX_PREDICTION_ROWS)",
            field="inputs",
        )
    width = len(features)
    for index, row in enumerate(rows):
        if len(row) != width:
            raise InvalidInputError(
                f"row {index} has {len(row)} values; the model takes {width} "
                f"features ({', '.join(features)})",
                field=f"inputs[{index}]",
            )
    x = np.asarray(rows, dtype=np.float64)
    result = model.predict(x)
    probabilities = (
        result.probabilities.tolist() if result.probabilities is not None else None
    )
    return PredictResponse(predictions=result.predictions, probabilities=probabilities)
