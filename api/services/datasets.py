"""Reading datasets for the API: public views, detail pages, who needs one."""

import uuid

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import NotFoundError
from api.schemas import DatasetColumnPublic, DatasetDetailPublic, DatasetPublic
from persistence import datasets
from persistence.models import Dataset, JobStatus, TrainingJob


def to_public(info: datasets.DatasetInfo) -> DatasetPublic:
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


def get_upload(
    session: Session, dataset_id: uuid.UUID, tenant: uuid.UUID
) -> Dataset | None:
    row = session.get(Dataset, dataset_id)
    return row if row is not None and row.tenant_id == tenant else None


def active_jobs(session: Session, dataset_id: uuid.UUID) -> list[uuid.UUID]:
    query = select(TrainingJob.id).where(
        TrainingJob.dataset_id == dataset_id,
        TrainingJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
    )
    return list(session.scalars(query))


def detail(session: Session, ref: str, tenant: uuid.UUID) -> DatasetDetailPublic:
    parsed = datasets.parse_ref(ref)
    info = datasets.find_info(session, parsed, tenant) if parsed is not None else None
    if info is None:
        raise NotFoundError(f"dataset {ref} does not exist", field="dataset_id")
    base = to_public(info).model_dump()
    if info.builtin:
        _, x, y = datasets.load_arrays(session, info.id)
        columns = [
            DatasetColumnPublic(
                name=name, type="numeric", missing=0,
                min=float(x[:, i].min()), max=float(x[:, i].max()),
            )
            for i, name in enumerate(info.features)
        ]  # fmt: skip
        counts = None if info.classes is None else _counts(y)
        preview = [
            {**dict(zip(info.features, row, strict=True)), info.target: label}
            for row, label in zip(x[:5].tolist(), y[:5].tolist(), strict=True)
        ]
        return DatasetDetailPublic(
            **base, format="builtin", columns=columns,
            class_counts=counts, preview=preview, options=None,
            size_bytes=None, sha256=None, created_at=None,
        )  # fmt: skip
    row = session.get(Dataset, uuid.UUID(info.id))
    assert row is not None
    return DatasetDetailPublic(
        **base,
        format=row.format,
        columns=[DatasetColumnPublic(**c) for c in row.profile.get("features", [])],
        class_counts=row.profile.get("class_counts"),
        preview=row.profile.get("preview", []),
        options=row.options,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        created_at=row.created_at,
    )


def _counts(y: np.ndarray) -> dict[str, int]:
    values, counts = np.unique(y, return_counts=True)
    return {str(v): int(c) for v, c in zip(values.tolist(), counts, strict=True)}
