"""The whole path over real HTTP, with the real launcher and a real Celery
worker process: once on the embedded default (SQLite and the folder broker),
once on PostgreSQL and Redis."""

import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris

from tests.fixtures.data import iris_csv
from tests.fixtures.service import Service, backend_service, wait_for_job
from tests.fixtures.specs import diabetes_spec, digits_spec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    data_dir = tmp_path_factory.mktemp(f"descent-{request.param}")
    with backend_service(request.param, data_dir) as running:
        yield running


@pytest.fixture
def http(service: Service) -> Iterator[httpx.Client]:
    with service.client() as client:
        yield client


def submit(http: httpx.Client, spec: dict) -> str:  # type: ignore[type-arg]
    response = http.post("/v1/jobs", json=spec)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def test_digits_reaches_95_percent_and_predicts_true_labels(
    http: httpx.Client, service: Service
) -> None:
    # Issue 2, must-show 1: 64-128-64-10 on digits, 30 epochs of adam.
    job = wait_for_job(http, submit(http, digits_spec()))
    assert job["status"] == "succeeded", (job, service.logs())
    assert job["epoch"] == 30 and job["progress"] == 1.0
    assert job["metrics"]["val_accuracy"] >= 0.95
    history = http.get(f"/v1/jobs/{job['id']}/metrics").json()
    assert [row["epoch"] for row in history["data"]] == list(range(1, 31))
    assert set(history["data"][0]["metrics"]) >= {
        "loss", "val_loss", "accuracy", "val_accuracy",
    }  # fmt: skip

    x, y = load_digits(return_X_y=True)
    rows = np.random.default_rng(1).choice(len(x), size=200, replace=False)
    response = http.post(
        f"/v1/models/{job['model_id']}/predict", json={"inputs": x[rows].tolist()}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    agreement = np.mean(np.asarray(body["predictions"]) == y[rows])
    assert agreement >= 0.95
    probabilities = np.asarray(body["probabilities"])
    assert probabilities.shape == (200, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_iris_csv_with_species_names_predicts_names(http: httpx.Client) -> None:
    # Issue 2, must-show 2: string class labels go in and come back out.
    upload = http.post(
        "/v1/datasets",
        files={"file": ("iris.csv", iris_csv(), "text/csv")},
        data={"name": "iris-names", "target": "species"},
    )
    assert upload.status_code == 201, upload.text
    spec = {
        "dataset": upload.json()["id"],
        "network": {
            "layers": [
                {"type": "dense", "units": 16, "activation": "relu"},
                {"type": "dense", "units": 3, "activation": "softmax"},
            ]
        },
        "loss": "cross_entropy",
        "optimizer": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 60, "batch_size": 16, "validation_split": 0.2},
    }
    job = wait_for_job(http, submit(http, spec))
    assert job["status"] == "succeeded", job
    bunch = load_iris()
    body = http.post(
        f"/v1/models/{job['model_id']}/predict", json={"inputs": bunch.data.tolist()}
    ).json()
    truth = bunch.target_names[bunch.target]
    assert set(body["predictions"]) <= {"setosa", "versicolor", "virginica"}
    assert np.mean(np.asarray(body["predictions"]) == truth) >= 0.9


def test_diabetes_regression_in_original_units(http: httpx.Client) -> None:
    # Issue 2, must-show 3: val_r2 at least 0.25, predictions in target units.
    job = wait_for_job(
        http,
        submit(
            http,
            diabetes_spec(
                optimizer={"name": "adam", "learning_rate": 0.001},
                training={"epochs": 100, "batch_size": 32, "validation_split": 0.2},
            ),
        ),
    )
    assert job["status"] == "succeeded", job
    assert job["metrics"]["val_r2"] >= 0.25
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    predictions = np.asarray(
        http.post(
            f"/v1/models/{job['model_id']}/predict", json={"inputs": x[:50].tolist()}
        ).json()["predictions"]
    )
    # The target runs from 25 to 346 with mean 152: scaled outputs would be ~0.
    assert 100 < predictions.mean() < 200
    assert np.corrcoef(predictions, y[:50])[0, 1] > 0.5


def test_cancelling_a_long_job_frees_the_worker(http: httpx.Client) -> None:
    # Issue 2, must-show 4: cancelled within 5 s; the next queued job then runs.
    long_job = submit(http, digits_spec(training={"epochs": 2000, "batch_size": 32}))
    wait_for_job(http, long_job, until=("running",), timeout_s=60)
    next_job = submit(http, digits_spec(training={"epochs": 2, "batch_size": 64}))
    requested = time.monotonic()
    assert http.post(f"/v1/jobs/{long_job}/cancel").status_code == 202
    job = wait_for_job(http, long_job, timeout_s=5)
    assert job["status"] == "cancelled"
    assert time.monotonic() - requested < 5
    assert job["epoch"] < 2000
    assert wait_for_job(http, next_job, timeout_s=60)["status"] == "succeeded"


def test_divergence_fails_with_the_epoch(http: httpx.Client) -> None:
    # A NaN or infinite loss ends the job failed, never succeeded with NaN weights.
    spec = diabetes_spec(optimizer={"name": "sgd", "learning_rate": 10.0})
    job = wait_for_job(http, submit(http, spec))
    assert job["status"] == "failed"
    assert "diverged" in job["error"] and "epoch" in job["error"]
    assert job["model_id"] is None


def test_a_restarted_service_predicts_the_same_values(
    http: httpx.Client, service: Service
) -> None:
    # Issue 2, must-show 6: the model lives in the database, not the process.
    job = wait_for_job(http, submit(http, digits_spec(training={"epochs": 3})))
    x, _ = load_digits(return_X_y=True)
    request = {"inputs": x[:20].tolist()}
    url = f"/v1/models/{job['model_id']}/predict"
    before = http.post(url, json=request).json()
    service.stop()
    service.start()
    with service.client() as fresh:
        after = fresh.post(url, json=request).json()
    assert after == before
