"""What a job tells about its own training, over HTTP with a real worker:
gradient flow, vanishing-gradient warnings, divergence, test metrics and
determinism (issue: the backprop core)."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sklearn.datasets import load_digits

from tests.fixtures.service import Service, wait_for_job
from tests.fixtures.specs import diabetes_spec, digits_spec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    service = Service(Path(tmp_path_factory.mktemp("health"))).start()
    try:
        with service.client() as client:
            yield client
    finally:
        service.stop()


def run(http: httpx.Client, spec: dict) -> dict:  # type: ignore[type-arg]
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 202, response.text
    return wait_for_job(http, response.json()["id"], timeout_s=300)


def deep(activation: str, *extra: dict) -> dict:  # type: ignore[type-arg]
    layers: list[dict] = []  # type: ignore[type-arg]
    for _ in range(8):
        layers.append({"type": "dense", "units": 32, "activation": activation})
        layers.extend(extra)
    layers.append({"type": "dense", "units": 10, "activation": "softmax"})
    return {"layers": layers}


def test_deep_sigmoid_network_warns_of_vanishing_gradients(http: httpx.Client) -> None:
    job = run(http, digits_spec(network=deep("sigmoid"), training={"epochs": 6}))
    assert job["status"] == "succeeded"
    assert any("vanishing gradients" in warning for warning in job["warnings"])
    history = http.get(f"/v1/jobs/{job['id']}/metrics").json()["data"]
    first = history[0]["layers"]
    assert sorted(first) == [f"layers.{2 * i}" for i in range(9)] or len(first) == 9
    norms = [numbers["grad_norm"] for numbers in first.values()]
    # The gradient shrinks layer by layer towards the input.
    assert norms[0] < norms[-1] / 1000


def test_relu_he_batch_norm_trains_the_same_depth(http: httpx.Client) -> None:
    network = deep("linear", {"type": "batch_norm", "activation": "relu"})
    network["init"] = "he_normal"
    job = run(http, digits_spec(network=network))
    assert job["status"] == "succeeded", job
    assert job["metrics"]["val_accuracy"] >= 0.95
    assert not any("vanishing" in warning for warning in job["warnings"])


def test_learning_rate_10_fails_as_diverged_with_the_epoch(http: httpx.Client) -> None:
    job = run(http, diabetes_spec(optimizer={"name": "sgd", "learning_rate": 10}))
    assert job["status"] == "failed"
    assert job["error"].startswith("training diverged at epoch 1:")
    assert job["model_id"] is None


def test_adam_at_rate_10_fails_as_diverged_too(http: httpx.Client) -> None:
    # The default optimizer keeps the loss finite; its runaway still fails.
    job = run(http, diabetes_spec(optimizer={"name": "adam", "learning_rate": 10}))
    assert job["status"] == "failed"
    assert job["error"].startswith("training diverged at epoch 1: the loss rose to")
    assert job["model_id"] is None


def test_same_seed_same_model_other_seed_other_model(http: httpx.Client) -> None:
    x, _ = load_digits(return_X_y=True)
    rows = {"inputs": x[:50].tolist()}

    def probabilities(seed: int) -> np.ndarray:
        spec = digits_spec(training={"epochs": 3, "seed": seed})
        job = run(http, spec)
        url = f"/v1/models/{job['model_id']}/predict"
        return np.asarray(http.post(url, json=rows).json()["probabilities"])

    first, again, other = probabilities(7), probabilities(7), probabilities(8)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_test_split_gives_test_metrics_and_a_confusion_matrix(
    http: httpx.Client,
) -> None:
    spec = digits_spec(
        training={"epochs": 5, "validation_split": 0.2, "test_split": 0.2}
    )
    job = run(http, spec)
    model = http.get(f"/v1/models/{job['model_id']}").json()
    assert set(model["test_metrics"]) == {"loss", "accuracy"}
    matrix = np.asarray(model["confusion_matrix"])
    assert matrix.shape == (10, 10)
    # Stratified 20% of digits' 1,797 rows, each counted once.
    assert 355 <= matrix.sum() <= 365
    assert np.trace(matrix) / matrix.sum() == pytest.approx(
        model["test_metrics"]["accuracy"]
    )
