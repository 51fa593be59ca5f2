import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from api.auth import TenantDep
from api.deps import SessionDep, SettingsDep
from api.errors import NotFoundError
from api.schemas import ModelPublic, PredictRequest, PredictResponse
from api.services.predictions import predict
from persistence.models import TrainedModel

router = APIRouter(prefix="/v1/models", tags=["models"])

NOT_FOUND = {404: {"description": "No such model"}}


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


def _get(session: SessionDep, model_id: uuid.UUID, tenant: uuid.UUID) -> TrainedModel:
    model = session.get(TrainedModel, model_id)
    # Another tenant's model answers exactly as one that does not exist.
    if model is None or model.tenant_id != tenant:
        raise NotFoundError(f"model {model_id} does not exist", field="model_id")
    return model


@router.get("/{model_id}", responses=NOT_FOUND)
def get_model(
    model_id: uuid.UUID, session: SessionDep, tenant: TenantDep
) -> ModelPublic:
    """A trained model's task, features, classes, spec and final metrics."""
    model = _get(session, model_id, tenant)
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
    tenant: TenantDep,
    request: Request,
) -> PredictResponse:
    """Predict class labels (with probabilities) or values for raw feature rows."""
    loaded = request.app.state.models.get(session, model_id, tenant)
    answer = predict(
        loaded.model, loaded.features, body.inputs, settings.max_prediction_rows
    )
    request.app.state.telemetry.predictions.inc(len(answer.predictions))
    return answer


@router.get(
    "/{model_id}/weights",
    response_class=Response,
    responses={
        **NOT_FOUND,
        200: {"content": {"application/octet-stream": {}}},
        304: {"description": "If-None-Match holds the archive's ETag"},
    },
)
def download_weights(
    model_id: uuid.UUID,
    session: SessionDep,
    tenant: TenantDep,
    if_none_match: Annotated[str | None, Header(max_length=1000)] = None,
) -> Response:
    """The model as an npz archive; the README documents its layout."""
    model = _get(session, model_id, tenant)
    etag = f'"{model.weights_sha256}"'
    headers = {
        "ETag": etag,
        "X-Content-SHA256": model.weights_sha256,
        "Content-Disposition": f'attachment; filename="descent-model-{model_id}.npz"',
    }
    if if_none_match and _matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(
        model.weights, media_type="application/octet-stream", headers=headers
    )
