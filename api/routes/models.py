import uuid

from fastapi import APIRouter, Request

from api.deps import SessionDep, SettingsDep
from api.errors import NotFoundError
from api.schemas import ModelPublic, PredictRequest, PredictResponse
from api.services.predictions import predict
from persistence.models import TrainedModel

router = APIRouter(prefix="/v1/models", tags=["models"])

NOT_FOUND = {404: {"description": "No such model"}}


def _get(session: SessionDep, model_id: uuid.UUID) -> TrainedModel:
    model = session.get(TrainedModel, model_id)
    if model is None:
        raise NotFoundError(f"model {model_id} does not exist", field="model_id")
    return model


@router.get("/{model_id}", responses=NOT_FOUND)
def get_model(model_id: uuid.UUID, session: SessionDep) -> ModelPublic:
    """A trained model's task, features, classes, spec and final metrics."""
    model = _get(session, model_id)
    return ModelPublic.model_validate(model, from_attributes=True)


# A plain def: FastAPI runs it in a thread, so a long prediction never blocks
# the event loop that answers other requests (CASES C11).
@router.post(
    "/{model_id}/predict",
    responses={**NOT_FOUND, 413: {"description": "Too many rows"}},
)
def predict_rows(
    model_id: uuid.UUID,
    body: PredictRequest,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> PredictResponse:
    """Predict class labels (with probabilities) or values for raw feature rows."""
    row = _get(session, model_id)
    model = request.app.state.models.get(session, model_id)
    return predict(model, row.features, body.inputs, settings.max_prediction_rows)
