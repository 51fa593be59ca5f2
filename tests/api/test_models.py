"""GET /v1/models/{id} and predict, on a model trained in-process with core."""

import hashlib
import uuid
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import load_iris

from core import FitConfig, dumps, fit
from persistence.db import session_scope
from persistence.models import JobStatus, TrainedModel, TrainingJob

SPEC: dict[str, Any] = {
    "task": "classification",
    "network": {
        "layers": [
            {"type": "dense", "units": 8, "activation": "relu"},
            {"type": "dense", "units": 3, "activation": "softmax"},
        ]
    },
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "learning_rate": 0.01},
    "training": {"epochs": 40, "batch_size": 16, "validation_split": 0.0, "seed": 0},
}


@pytest.fixture
def model_id(client: TestClient) -> str:
    bunch = load_iris()
    labels = bunch.target_names[bunch.target]
    result = fit(bunch.data, labels, FitConfig.from_dict(SPEC))
    blob = dumps(result.model)
    job = TrainingJob(
        id=uuid.uuid4(),
        builtin_dataset="iris",
        spec=SPEC,
        status=JobStatus.SUCCEEDED,
        epochs=40,
        epoch=40,
    )
    model = TrainedModel(
        id=uuid.uuid4(),
        job_id=job.id,
        task="classification",
        features=list(bunch.feature_names),
        classes=sorted(bunch.target_names.tolist()),
        spec=SPEC,
        metrics={"loss": 0.1, "accuracy": 0.97},
        weights=blob,
        weights_sha256=hashlib.sha256(blob).hexdigest(),
    )
    with session_scope() as session:
        session.add(job)
        session.flush()
        session.add(model)
    return str(model.id)


class TestGetModel:
    def test_describes_the_model(self, client: TestClient, model_id: str) -> None:
        body = client.get(f"/v1/models/{model_id}").json()
        assert body["task"] == "classification"
        assert body["classes"] == ["setosa", "versicolor", "virginica"]
        assert len(body["features"]) == 4

    def test_unknown_model_is_404(self, client: TestClient) -> None:
        response = client.get(f"/v1/models/{uuid.uuid4()}")
        assert response.status_code == 404


class TestPredict:
    def test_labels_and_probabilities(self, client: TestClient, model_id: str) -> None:
        bunch = load_iris()
        response = client.post(
            f"/v1/models/{model_id}/predict", json={"inputs": bunch.data.tolist()}
        )
        body = response.json()
        truth = bunch.target_names[bunch.target]
        assert np.mean(np.asarray(body["predictions"]) == truth) >= 0.9
        probabilities = np.asarray(body["probabilities"])
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)

    def test_the_same_rows_give_the_same_answer(
        self, client: TestClient, model_id: str
    ) -> None:
        request = {"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}
        first = client.post(f"/v1/models/{model_id}/predict", json=request).json()
        second = client.post(f"/v1/models/{model_id}/predict", json=request).json()
        assert first == second

    def test_wrong_width_names_the_row_and_the_features(
        self, client: TestClient, model_id: str
    ) -> None:
        response = client.post(
            f"/v1/models/{model_id}/predict", json={"inputs": [[1, 2, 3, 4], [1, 2]]}
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["field"] == "inputs[1]"
        assert problem["detail"].startswith("row 1 has 2 values; the model takes 4")

    def test_non_finite_input_is_refused(
        self, client: TestClient, model_id: str
    ) -> None:
        response = client.post(
            f"/v1/models/{model_id}/predict",
            content=b'{"inputs": [[NaN, 1, 2, 3]]}',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 422
        assert response.json()["field"] == "inputs[0][0]"

    def test_too_many_rows_is_413_naming_the_limit(
        self, client: TestClient, model_id: str
    ) -> None:
        rows = [[5.0, 3.0, 1.0, 0.2]] * 10_001
        response = client.post(f"/v1/models/{model_id}/predict", json={"inputs": rows})
        assert response.status_code == 413
        assert "DESCENT_MAX_PREDICTION_ROWS" in response.json()["detail"]

    def test_empty_inputs_is_422(self, client: TestClient, model_id: str) -> None:
        response = client.post(f"/v1/models/{model_id}/predict", json={"inputs": []})
        assert response.status_code == 422
        assert response.json()["field"] == "inputs"
