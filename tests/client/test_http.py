"""The Python client against the real API over HTTP, with no worker running."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import Client, DescentError
from client.files import load_spec
from tests.fixtures.data import iris_csv

ROOT = Path(__file__).resolve().parents[2]
BUILTINS = {"iris", "wine", "breast_cancer", "digits", "diabetes"}
NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"


def digits_spec(**changes: Any) -> dict[str, Any]:
    return {**load_spec(ROOT / "examples" / "digits.yaml"), **changes}


def mock_client(handler: Any, **kwargs: Any) -> Client:
    transport = httpx.MockTransport(handler)
    return Client(
        "http://descent.test", http=httpx.Client(transport=transport), **kwargs
    )


class TestDatasets:
    def test_lists_the_five_builtins(self, descent: Client) -> None:
        datasets = {item.id: item for item in descent.datasets()}
        assert BUILTINS <= set(datasets)
        assert datasets["digits"].n_features == 64
        assert datasets["digits"].classes == list(range(10))
        assert datasets["diabetes"].task == "regression"


class TestUploadDataset:
    def test_uploads_a_csv_with_text_labels(
        self, descent: Client, tmp_path: Path
    ) -> None:
        path = tmp_path / "flowers.csv"
        path.write_bytes(iris_csv())
        dataset = descent.upload_dataset(path, "species")
        assert dataset.name == "flowers"
        assert not dataset.builtin
        assert (dataset.task, dataset.n_rows, dataset.n_features) == (
            "classification",
            150,
            4,
        )
        assert dataset.classes == ["setosa", "versicolor", "virginica"]
        assert dataset.id in {item.id for item in descent.datasets()}

    def test_unknown_target_names_the_field(
        self, descent: Client, tmp_path: Path
    ) -> None:
        path = tmp_path / "flowers.csv"
        path.write_bytes(iris_csv())
        with pytest.raises(DescentError) as caught:
            descent.upload_dataset(path, "colour", name="flowers")
        assert caught.value.status == 422
        assert caught.value.field == "target"
        assert "'colour'" in str(caught.value)


class TestTrain:
    def test_returns_a_queued_job(self, descent: Client) -> None:
        job = descent.train(digits_spec(), "digits")
        assert job.status == "queued" and not job.done
        assert (job.epoch, job.epochs, job.dataset) == (0, 30, "digits")
        assert job.model_id is None
        assert job.refresh().status == "queued"
        assert descent.job(job.id).spec["training"]["epochs"] == 30

    def test_the_iris_example_is_accepted(self, descent: Client) -> None:
        spec = load_spec(ROOT / "examples" / "iris.json")
        assert descent.train(spec, "iris").status == "queued"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"loss": "hinge"}, "loss"),
            (
                {"network": {"layers": [{"units": 0, "activation": "relu"}]}},
                "network.layers[0].units",
            ),
        ],
    )
    def test_a_bad_spec_raises_with_the_field(
        self, descent: Client, changes: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(DescentError) as caught:
            descent.train(digits_spec(**changes), "digits")
        assert caught.value.status == 422
        assert caught.value.field == field
        assert str(caught.value) == caught.value.message

    def test_an_unknown_dataset_raises_with_the_field(self, descent: Client) -> None:
        with pytest.raises(DescentError) as caught:
            descent.train(digits_spec(), "mnist")
        assert caught.value.field == "dataset"
        assert "digits" in str(caught.value)

    def test_wait_gives_up_after_its_timeout(self, descent: Client) -> None:
        job = descent.train(digits_spec(), "digits")
        seen: list[str] = []
        with pytest.raises(DescentError, match="still queued"):
            job.wait(
                poll_s=0.05, timeout_s=0.3, on_update=lambda j: seen.append(j.status)
            )
        assert seen and set(seen) == {"queued"}


class TestJobs:
    def test_lists_jobs_newest_first(self, descent: Client) -> None:
        first = descent.train(digits_spec(), "digits")
        second = descent.train(digits_spec(), "digits")
        ids = [job.id for job in descent.jobs(limit=2)]
        assert ids == [second.id, first.id]
        assert descent.jobs(limit=1, offset=1)[0].id == first.id

    def test_cancelling_a_queued_job_ends_it(self, descent: Client) -> None:
        job = descent.train(digits_spec(), "digits")
        assert descent.cancel(job.id).status == "cancelled"
        assert job.wait(poll_s=0.05, timeout_s=5).status == "cancelled"
        assert descent.metrics(job.id) == []

    def test_an_unknown_job_is_a_404_naming_it(self, descent: Client) -> None:
        with pytest.raises(DescentError) as caught:
            descent.job(NO_SUCH_ID)
        assert caught.value.status == 404
        assert NO_SUCH_ID in str(caught.value)

    def test_an_unknown_model_is_a_404(self, descent: Client) -> None:
        with pytest.raises(DescentError) as caught:
            descent.model(NO_SUCH_ID)
        assert caught.value.status == 404
        assert caught.value.field == "model_id"


class TestTransport:
    def test_an_unreachable_server_names_the_url(self, closed_url: str) -> None:
        with (
            Client(closed_url, timeout=5) as client,
            pytest.raises(DescentError) as caught,
        ):
            client.datasets()
        assert caught.value.status is None
        assert closed_url in str(caught.value)
        assert "make run" in str(caught.value)

    def test_the_key_is_sent_as_a_bearer_token(self) -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, json={"data": [], "count": 0})

        mock_client(handler, key="k-123").jobs()
        assert seen[0].headers["authorization"] == "Bearer k-123"
        mock_client(handler, key="").jobs()
        assert "authorization" not in seen[1].headers

    def test_url_and_key_default_from_the_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DESCENT_URL", "http://example.test:9000/")
        monkeypatch.setenv("DESCENT_API_KEY", "from-env")
        with Client() as client:
            assert client.url == "http://example.test:9000"
            assert client._headers["Authorization"] == "Bearer from-env"

    def test_an_answer_that_is_not_a_problem_still_reads(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(502, text="<html>bad gateway</html>")

        with pytest.raises(DescentError) as caught:
            mock_client(handler).datasets()
        assert caught.value.status == 502
        assert str(caught.value).startswith("HTTP 502 Bad Gateway")

    def test_many_rows_are_predicted_in_batches(self) -> None:
        sizes: list[int] = []

        def handler(request: httpx.Request) -> httpx.Response:
            rows = json.loads(request.content)["inputs"]
            sizes.append(len(rows))
            return httpx.Response(
                200,
                json={
                    "predictions": [row[0] for row in rows],
                    "probabilities": [[1.0] for _ in rows],
                },
            )

        rows = [[float(index)] for index in range(2500)]
        result = mock_client(handler).predict("m", rows)
        assert sizes == [1000, 1000, 500]
        assert result.predictions == [row[0] for row in rows]
        assert result.probabilities is not None and len(result.probabilities) == 2500

    def test_named_rows_are_put_in_the_model_feature_order(self) -> None:
        sent: list[Any] = []

        def handler(request: httpx.Request) -> httpx.Response:
            if request.method == "GET":
                return httpx.Response(200, json=model_json(["b", "a"]))
            sent.extend(json.loads(request.content)["inputs"])
            return httpx.Response(200, json={"predictions": [0.5]})

        result = mock_client(handler).predict("m", [{"a": 1.0, "b": 2.0, "c": 3.0}])
        assert sent == [[2.0, 1.0]]
        assert result.probabilities is None


def model_json(features: list[str]) -> dict[str, Any]:
    return {
        "id": "m",
        "job_id": "j",
        "task": "regression",
        "features": features,
        "classes": None,
        "spec": {},
        "metrics": None,
        "weights_sha256": "0" * 64,
        "created_at": "2026-12-04T17:00:00",
    }
