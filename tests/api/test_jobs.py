"""POST /v1/jobs validation and job bookkeeping, without a worker running."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import queued_messages
from tests.fixtures.specs import diabetes_spec, digits_spec


class TestCreateJob:
    def test_queues_and_sends_one_message(
        self, client: TestClient, data_dir: Path
    ) -> None:
        # The row is committed and exactly one broker message carries its id.
        response = client.post("/v1/jobs", json=digits_spec())
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["status"] == "queued"
        assert body["epochs"] == 30
        assert body["progress"] == 0.0
        assert response.headers["location"] == f"/v1/jobs/{body['id']}"
        assert client.get(response.headers["location"]).json()["id"] == body["id"]
        messages = queued_messages(data_dir)
        assert len(messages) == 1
        assert body["id"] in messages[0].read_text()

    @pytest.mark.parametrize(
        ("spec", "field"),
        [
            (
                digits_spec(network={"layers": [{"units": 10, "activation": "swish"}]}),
                "network.layers[0].activation",
            ),
            (digits_spec(loss="hinge"), "loss"),
            (
                digits_spec(network={"layers": [{"units": 0, "activation": "relu"}]}),
                "network.layers[0].units",
            ),
            (
                digits_spec(network={"layers": [{"units": -3, "activation": "relu"}]}),
                "network.layers[0].units",
            ),
            (
                digits_spec(
                    network={"layers": [{"units": 3, "activation": "softmax"}]}
                ),
                "network.layers[0].units",
            ),
            (
                diabetes_spec(
                    network={"layers": [{"units": 1, "activation": "softmax"}]}
                ),
                "network.layers[0].activation",
            ),
            (digits_spec(dataset="mnist"), "dataset"),
            (
                digits_spec(optimizer={"name": "adam", "learning_rate": 0}),
                "optimizer.learning_rate",
            ),
            (digits_spec(training={"epochs": 0}), "training.epochs"),
        ],
    )
    def test_bad_spec_is_422_naming_the_field_and_stores_nothing(
        self, client: TestClient, data_dir: Path, spec: dict[str, Any], field: str
    ) -> None:
        response = client.post("/v1/jobs", json=spec)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field
        assert client.get("/v1/jobs").json() == {"data": [], "count": 0}
        assert queued_messages(data_dir) == []

    def test_unknown_dataset_id_is_404(self, client: TestClient) -> None:
        spec = digits_spec(dataset="00000000-0000-0000-0000-000000000000")
        response = client.post("/v1/jobs", json=spec)
        assert response.status_code == 404
        assert response.json()["field"] == "dataset"
        assert client.get("/v1/jobs").json()["count"] == 0

    def test_ten_classes_but_three_units_gives_both_counts(
        self, client: TestClient
    ) -> None:
        spec = digits_spec(network={"layers": [{"units": 3, "activation": "softmax"}]})
        detail = client.post("/v1/jobs", json=spec).json()["detail"]
        assert "10" in detail and "3" in detail

    def test_limit_on_epochs_names_the_setting(self, client: TestClient) -> None:
        spec = digits_spec(training={"epochs": 10_001})
        problem = client.post("/v1/jobs", json=spec).json()
        assert problem["field"] == "training.epochs"
        assert problem["detail"] == (
            "epochs is 10001; the limit is 10000 (DESCENT_MAX_EPOCHS)"
        )


class TestListJobs:
    def test_newest_first_and_paginated(self, client: TestClient) -> None:
        ids = [
            client.post("/v1/jobs", json=digits_spec()).json()["id"] for _ in range(3)
        ]
        page = client.get("/v1/jobs", params={"limit": 2}).json()
        assert page["count"] == 3
        assert [job["id"] for job in page["data"]] == [ids[2], ids[1]]
        rest = client.get("/v1/jobs", params={"limit": 2, "offset": 2}).json()
        assert [job["id"] for job in rest["data"]] == [ids[0]]


class TestCancelJob:
    def test_a_queued_job_is_cancelled_at_once(self, client: TestClient) -> None:
        job_id = client.post("/v1/jobs", json=digits_spec()).json()["id"]
        response = client.post(f"/v1/jobs/{job_id}/cancel")
        assert response.status_code == 202
        assert response.json()["status"] == "cancelled"
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "cancelled"

    def test_a_finished_job_has_nothing_to_cancel(self, client: TestClient) -> None:
        job_id = client.post("/v1/jobs", json=digits_spec()).json()["id"]
        client.post(f"/v1/jobs/{job_id}/cancel")
        response = client.post(f"/v1/jobs/{job_id}/cancel")
        assert response.status_code == 409
        assert response.json()["detail"] == (
            f"job {job_id} has already cancelled; there is nothing to cancel"
        )

    def test_unknown_job_is_404_problem(self, client: TestClient) -> None:
        response = client.post("/v1/jobs/00000000-0000-0000-0000-000000000001/cancel")
        assert response.status_code == 404
        assert response.json()["type"] == "urn:descent:problem:not-found"

    def test_malformed_id_is_422(self, client: TestClient) -> None:
        response = client.get("/v1/jobs/not-a-uuid")
        assert response.status_code == 422
        assert response.json()["field"] == "job_id"


class TestDevices:
    def test_gpu_without_a_gpu_worker_is_refused_naming_device(
        self, client: TestClient, data_dir: Path
    ) -> None:
        # Rather than wait forever on a queue nobody consumes.
        response = client.post("/v1/jobs", json=digits_spec(device="gpu"))
        assert response.status_code == 422
        problem = response.json()
        assert problem["field"] == "device"
        assert "no GPU worker is running" in problem["detail"]
        assert queued_messages(data_dir) == []

    def test_auto_without_a_gpu_worker_goes_to_the_cpu_queue(
        self, client: TestClient
    ) -> None:
        body = client.post("/v1/jobs", json=digits_spec(device="auto")).json()
        assert (body["device"], body["queue"]) == ("auto", "cpu")

    def test_gpu_with_a_live_gpu_worker_goes_to_the_gpu_queue(
        self, client: TestClient
    ) -> None:
        from persistence import workers
        from persistence.db import session_scope

        with session_scope() as session:
            workers.beat(session, "gpu@host", ["gpu"])
        body = client.post("/v1/jobs", json=digits_spec(device="gpu")).json()
        assert body["queue"] == "gpu"


class TestSpecOptions:
    def test_every_option_reaches_core_and_is_stored_resolved(
        self, client: TestClient
    ) -> None:
        spec = digits_spec(
            network={
                "init": "xavier_uniform",
                "layers": [
                    {"type": "dense", "units": 64, "activation": "leaky_relu",
                     "negative_slope": 0.1, "init": "he_uniform"},
                    {"type": "batch_norm", "momentum": 0.2, "epsilon": 1e-3},
                    {"type": "dropout", "rate": 0.3},
                    {"type": "dense", "units": 10, "activation": "softmax"},
                ],
            },
            loss={"name": "cross_entropy", "label_smoothing": 0.1},
            optimizer={"name": "adamw", "learning_rate": 0.002, "weight_decay": 0.05},
            regularization={"l1": 1e-5},
            schedule={"name": "cosine", "warmup_epochs": 2, "restarts": True},
            clip={"norm": 1.0},
            early_stopping={"metric": "val_accuracy", "patience": 3},
            training={"epochs": 12, "test_split": 0.1},
        )  # fmt: skip
        response = client.post("/v1/jobs", json=spec)
        assert response.status_code == 202, response.text
        stored = response.json()["spec"]
        assert stored["network"]["layers"][0]["negative_slope"] == 0.1
        assert stored["loss"] == {"name": "cross_entropy", "label_smoothing": 0.1}
        assert stored["optimizer"]["weight_decay"] == 0.05
        assert stored["schedule"]["name"] == "cosine"
        assert stored["early_stopping"]["metric"] == "val_accuracy"
        assert stored["training"]["test_split"] == 0.1

    def test_a_key_of_another_layer_type_is_named(self, client: TestClient) -> None:
        # "rate" belongs to dropout; core's strict reading names it on a dense layer.
        spec = digits_spec(
            network={"layers": [{"units": 10, "activation": "softmax", "rate": 0.5}]}
        )
        problem = client.post("/v1/jobs", json=spec).json()
        assert problem["field"] == "network.layers[0].rate"


class TestInlineData:
    def inline_spec(self, x: list, y: list) -> dict[str, Any]:  # type: ignore[type-arg]
        return {
            "dataset": {"inline": {"x": x, "y": y}},
            "network": {"layers": [{"units": 2, "activation": "softmax"}]},
            "loss": "cross_entropy",
        }

    def test_small_data_travels_in_the_job(self, client: TestClient) -> None:
        x = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]]
        response = client.post(
            "/v1/jobs", json=self.inline_spec(x, ["a", "b", "a", "b"])
        )
        assert response.status_code == 202, response.text
        dataset = client.get(f"/v1/datasets/{response.json()['dataset']}").json()
        assert (dataset["n_rows"], dataset["classes"]) == (4, ["a", "b"])

    def test_over_the_bound_is_413_naming_the_limit(self, client: TestClient) -> None:
        x = [[0.0] * 1000] * 101
        response = client.post("/v1/jobs", json=self.inline_spec(x, [0, 1] * 50 + [0]))
        assert response.status_code == 413
        assert response.json()["field"] == "dataset.inline.x"
        assert "DESCENT_MAX_INLINE_CELLS" in response.json()["detail"]

    def test_y_of_another_length_is_named(self, client: TestClient) -> None:
        response = client.post("/v1/jobs", json=self.inline_spec([[1.0], [2.0]], [0]))
        assert response.status_code == 422
        assert response.json()["field"] == "dataset.inline.y"
