"""GET /v1/models/{id}/weights, and the README's plain-NumPy prediction run
against it: the same answers as the API's predict, to 1e-6."""

import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from core import FitConfig, dumps, fit
from persistence.db import session_scope
from persistence.models import JobStatus, TrainedModel, TrainingJob

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_block(containing: str) -> str:
    """The README's python code block that contains ``containing``."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    matching = [block for block in blocks if containing in block]
    assert len(matching) == 1, (
        f"{len(matching)} README python blocks hold {containing!r}"
    )
    return matching[0]


def _layers(*layers: dict[str, Any]) -> dict[str, Any]:
    return {"layers": list(layers)}


def dense(units: int, activation: str, **extra: Any) -> dict[str, Any]:
    return {"type": "dense", "units": units, "activation": activation, **extra}


# Between them the models use every activation, batch norm and dropout, and
# all three kinds of output: softmax classes, one sigmoid unit, regression.
MODELS = {
    "iris": (
        load_iris,
        "classification",
        _layers(dense(8, "relu"), dense(3, "softmax")),
        "cross_entropy",
    ),
    "breast_cancer": (
        load_breast_cancer,
        "classification",
        _layers(
            dense(16, "leaky_relu", negative_slope=0.1),
            {"type": "dropout", "rate": 0.2},
            dense(8, "elu", alpha=0.5),
            dense(1, "sigmoid"),
        ),
        "binary_cross_entropy",
    ),
    "diabetes": (
        load_diabetes,
        "regression",
        _layers(
            dense(16, "gelu"),
            {"type": "batch_norm", "activation": "tanh"},
            dense(8, "sigmoid"),
            dense(1, "linear"),
        ),
        "mse",
    ),
}


def store_model(name: str) -> tuple[str, np.ndarray]:
    """Train ``name`` in-process with core and store it as a job's model."""
    load, task, network, loss = MODELS[name]
    bunch = load()
    labels = bunch.target_names[bunch.target] if name == "iris" else bunch.target
    spec = {
        "task": task,
        "network": network,
        "loss": loss,
        "optimizer": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 15, "batch_size": 32, "seed": 0},
    }
    result = fit(bunch.data, labels, FitConfig.from_dict(spec))
    blob = dumps(result.model)
    job = TrainingJob(
        id=uuid.uuid4(),
        builtin_dataset=name,
        spec=spec,
        status=JobStatus.SUCCEEDED,
        epochs=15,
        epoch=15,
    )
    model = TrainedModel(
        id=uuid.uuid4(),
        job_id=job.id,
        task=task,
        features=[str(feature) for feature in bunch.feature_names],
        classes=result.model.classes,
        spec=spec,
        weights=blob,
        weights_sha256=hashlib.sha256(blob).hexdigest(),
    )
    with session_scope() as session:
        session.add(job)
        session.flush()
        session.add(model)
    return str(model.id), bunch.data


class TestDownload:
    def test_the_archive_with_its_checksum_and_name(self, client: TestClient) -> None:
        model_id, _ = store_model("iris")
        response = client.get(f"/v1/models/{model_id}/weights")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        digest = hashlib.sha256(response.content).hexdigest()
        assert response.headers["X-Content-SHA256"] == digest
        assert response.headers["ETag"] == f'"{digest}"'
        assert (
            f'filename="descent-model-{model_id}.npz"'
            in (response.headers["content-disposition"])
        )
        assert client.get(f"/v1/models/{model_id}").json()["weights_sha256"] == digest

    def test_a_matching_etag_answers_304(self, client: TestClient) -> None:
        model_id, _ = store_model("iris")
        etag = client.get(f"/v1/models/{model_id}/weights").headers["ETag"]
        again = client.get(
            f"/v1/models/{model_id}/weights", headers={"If-None-Match": etag}
        )
        assert again.status_code == 304 and again.content == b""

    def test_unknown_model_is_404(self, client: TestClient) -> None:
        response = client.get(f"/v1/models/{uuid.uuid4()}/weights")
        assert response.status_code == 404
        assert response.json()["field"] == "model_id"


def _download(client: TestClient, model_id: str, folder: Path) -> None:
    response = client.get(f"/v1/models/{model_id}/weights")
    assert response.status_code == 200
    (folder / "model.npz").write_bytes(response.content)


class TestReadmeExample:
    def test_the_readme_example_runs_as_written(
        self, client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        model_id, _ = store_model("iris")
        _download(client, model_id, tmp_path)
        monkeypatch.chdir(tmp_path)
        namespace: dict[str, Any] = {}
        exec(readme_block("def predict(path, rows)"), namespace)

        rows = namespace["rows"]
        api = client.post(f"/v1/models/{model_id}/predict", json={"inputs": rows})
        assert namespace["labels"].tolist() == api.json()["predictions"]
        np.testing.assert_allclose(
            namespace["probabilities"], api.json()["probabilities"], rtol=0, atol=1e-6
        )

    @pytest.mark.parametrize("name", sorted(MODELS))
    def test_plain_numpy_matches_the_api(
        self,
        name: str,
        client: TestClient,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        model_id, x = store_model(name)
        _download(client, model_id, tmp_path)
        monkeypatch.chdir(tmp_path)
        block = readme_block("def predict(path, rows)")
        # The definitions only: the block's last lines predict for iris rows.
        namespace: dict[str, Any] = {}
        exec(block[: block.index("\nrows = ")], namespace)

        rows = x[::7]
        answer = client.post(
            f"/v1/models/{model_id}/predict", json={"inputs": rows.tolist()}
        ).json()
        values, probabilities = namespace["predict"]("model.npz", rows)
        if answer["probabilities"] is None:
            np.testing.assert_allclose(values, answer["predictions"], rtol=1e-6)
            assert probabilities is None
        else:
            assert values.tolist() == answer["predictions"]
            np.testing.assert_allclose(
                probabilities, answer["probabilities"], rtol=0, atol=1e-6
            )
