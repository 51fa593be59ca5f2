import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile, status

from api.deps import SessionDep, SettingsDep
from api.errors import InvalidInputError, PayloadTooLargeError
from api.schemas import DatasetPublic, DatasetsPublic
from api.services.csv_upload import parse_csv
from persistence import datasets
from persistence.models import Dataset

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


def _public(info: datasets.DatasetInfo) -> DatasetPublic:
    return DatasetPublic(
        id=info.id,
        name=info.name,
        builtin=info.builtin,
        task=info.task,  # type: ignore[arg-type]
        target=info.target,
        n_rows=info.n_rows,
        n_features=info.n_features,
        features=info.features,
        classes=info.classes,
    )


@router.get("")
def list_datasets(session: SessionDep) -> DatasetsPublic:
    """The built-in datasets, then uploaded ones, newest first."""
    infos = datasets.builtin_infos() + datasets.uploaded_infos(session)
    return DatasetsPublic(data=[_public(info) for info in infos], count=len(infos))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={413: {"description": "The file is over the size limit"}},
)
def upload_dataset(
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="a CSV file with a header row")],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    target: Annotated[str, Form(min_length=1, max_length=200)],
    task: Annotated[Literal["classification", "regression"] | None, Form()] = None,
) -> DatasetPublic:
    """Upload a CSV dataset; the target column is named by ``target``."""
    if file.size is not None and file.size > settings.max_upload_bytes:
        raise PayloadTooLargeError(
            f"the file is {file.size} bytes; the limit is {settings.max_upload_bytes} "
            "(DESCENT_MAX_UPLOAD_BYTES)",
            field="file",
        )
    table = parse_csv(
        file.file,
        target.strip(),
        task,
        settings.max_dataset_rows,
        settings.max_dataset_columns,
    )
    if table.x.shape[0] < 2:
        raise InvalidInputError("the file needs at least two data rows", "file")
    blob, digest = datasets.pack_arrays(table.x, table.y)
    row = Dataset(
        id=uuid.uuid4(),
        name=name,
        target=target.strip(),
        task=table.task,
        n_rows=int(table.x.shape[0]),
        n_features=len(table.features),
        features=table.features,
        classes=table.classes,
        data=blob,
        sha256=digest,
        size_bytes=len(blob),
    )
    session.add(row)
    session.flush()
    return _public(datasets.find_info(session, row.id))  # type: ignore[arg-type]
