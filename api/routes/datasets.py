import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse

from api import idempotent
from api.auth import TenantDep
from api.deps import SessionDep, SettingsDep
from api.errors import ConflictError, NotFoundError
from api.idempotent import IdempotencyKeyHeader
from api.schemas import DatasetDetailPublic, DatasetPublic, DatasetsPublic
from api.services import datasets as service
from api.services.uploads import file_sha256, ingest, read_options
from persistence import datasets

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

NOT_FOUND = {404: {"description": "No such dataset"}}


@router.get("")
def list_datasets(session: SessionDep, tenant: TenantDep) -> DatasetsPublic:
    """The built-in datasets, then uploaded ones, newest first."""
    infos = datasets.builtin_infos() + datasets.uploaded_infos(session, tenant)
    data = [service.to_public(info) for info in infos]
    return DatasetsPublic(data=data, count=len(infos))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DatasetPublic,
    responses={413: {"description": "The file is over a size limit"}},
)
def upload_dataset(
    session: SessionDep,
    settings: SettingsDep,
    tenant: TenantDep,
    request: Request,
    file: Annotated[UploadFile, File(description="CSV, JSON or NPZ")],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    target: Annotated[str, Form(max_length=200)] = "",
    task: Annotated[Literal["classification", "regression"] | None, Form()] = None,
    format: Annotated[Literal["csv", "json", "npz"] | None, Form()] = None,
    delimiter: Annotated[str | None, Form(max_length=10)] = None,
    header: Annotated[bool | None, Form()] = None,
    decimal: Annotated[Literal[".", ","], Form()] = ".",
    ignore: Annotated[str | None, Form(max_length=10_000)] = None,
    column_types: Annotated[str | None, Form(max_length=100_000)] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Upload a dataset file; ``target`` names its target column."""
    options = read_options(
        file.filename, target, format, delimiter, header, decimal, ignore,
        column_types, task,
    )  # fmt: skip
    request_body = {
        "file_sha256": file_sha256(file.file),
        "name": name,
        **vars(options),
    }
    replay = idempotent.replay(session, tenant, idempotency_key, request, request_body)
    if replay is not None:
        return replay
    row = ingest(session, settings, file.file, name, options, tenant)
    info = datasets.find_info(session, row.id)
    public = service.to_public(info).model_dump(mode="json")  # type: ignore[arg-type]
    idempotent.remember(
        session, tenant, idempotency_key, request, request_body, 201, public, None
    )
    return JSONResponse(public, status_code=201)


@router.get("/{dataset_id}", responses=NOT_FOUND)
def get_dataset(
    dataset_id: str, session: SessionDep, tenant: TenantDep
) -> DatasetDetailPublic:
    """Each column's type, missing count and summary, class balance, preview."""
    return service.detail(session, dataset_id, tenant)


@router.delete(
    "/{dataset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, 409: {"description": "A job still needs it"}},
)
def delete_dataset(
    dataset_id: uuid.UUID, session: SessionDep, tenant: TenantDep
) -> Response:
    """Delete an uploaded dataset that no queued or running job needs."""
    row = service.get_upload(session, dataset_id, tenant)
    if row is None:
        raise NotFoundError(f"dataset {dataset_id} does not exist", "dataset_id")
    users = service.active_jobs(session, dataset_id)
    if users:
        raise ConflictError(
            f"dataset {dataset_id} is needed by {len(users)} queued or running "
            f"job(s): {', '.join(str(job) for job in users[:5])}; cancel them first",
            field="dataset_id",
        )
    session.delete(row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
