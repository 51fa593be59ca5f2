"""The dashboard's pages as the server renders them (no browser)."""

import hashlib
import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from api.dashboard_views import headline, heat_map, number
from persistence.db import session_scope
from persistence.models import DEFAULT_TENANT_ID, JobStatus, TrainedModel, TrainingJob
from persistence.tenants import create_key

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"


def add_job(
    status: str,
    metrics: dict | None = None,
    task: str = "classification",
    tenant_id: uuid.UUID = DEFAULT_TENANT_ID,
) -> TrainingJob:
    job = TrainingJob(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        builtin_dataset="iris",
        spec={"task": task},
        status=status,
        epochs=30,
        epoch=12,
        metrics=metrics,
    )
    with session_scope() as session:
        session.add(job)
    return job


def add_model(job: TrainingJob) -> TrainedModel:
    model = TrainedModel(
        id=uuid.uuid4(),
        job_id=job.id,
        task="classification",
        features=["sepal length", "petal <width>"],
        classes=["setosa", "versicolor"],
        spec={"task": "classification", "loss": "cross_entropy"},
        metrics={"loss": 0.21, "val_accuracy": 0.95},
        test_metrics={"accuracy": 0.9, "loss": float("nan")},
        confusion_matrix=[[9, 1], [0, 10]],
        weights=b"npz",
        weights_sha256=hashlib.sha256(b"npz").hexdigest(),
    )
    with session_scope() as session:
        session.add(model)
    return model


class TestJobsPage:
    def test_lists_jobs_with_status_and_headline_metric(
        self, client: TestClient
    ) -> None:
        job = add_job(JobStatus.RUNNING, {"loss": 0.4, "val_accuracy": 0.9123})
        response = client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        page = response.text
        assert f'href="/jobs/{job.id}"' in page
        assert "running" in page and "val_accuracy 0.9123" in page
        assert '<html lang="en">' in page

    def test_an_empty_list_says_how_to_start(self, client: TestClient) -> None:
        assert "No jobs yet" in client.get("/").text


class TestJobPage:
    def test_has_the_charts_the_stream_and_the_cancel_button(
        self, client: TestClient
    ) -> None:
        job = add_job(JobStatus.RUNNING)
        page = client.get(f"/jobs/{job.id}").text
        for chart in ("loss", "quality", "lr", "gradients"):
            assert f'id="chart-{chart}"' in page
        assert (
            'id="cancel"' in page
            and "disabled" not in page.split('id="cancel"')[1][:20]
        )
        assert 'data-quality="accuracy"' in page
        assert "/static/vendor/uplot/uPlot.iife.min.js" in page

    def test_a_regression_job_plots_rmse(self, client: TestClient) -> None:
        job = add_job(JobStatus.SUCCEEDED, task="regression")
        page = client.get(f"/jobs/{job.id}").text
        assert 'data-quality="rmse"' in page and "RMSE" in page
        assert 'id="cancel" disabled' in page

    def test_unknown_job_is_an_html_404(self, client: TestClient) -> None:
        response = client.get(f"/jobs/{uuid.uuid4()}")
        assert response.status_code == 404
        assert "There is no job" in response.text


class TestModelPage:
    def test_spec_metrics_heat_map_and_form(self, client: TestClient) -> None:
        model = add_model(add_job(JobStatus.SUCCEEDED))
        page = client.get(f"/models/{model.id}").text
        assert 'id="confusion"' in page
        assert "rgba(0, 90, 181, 0.900)" in page  # 9 of 10 setosa rows
        assert "petal &lt;width&gt;" in page  # names are escaped
        assert page.count("data-feature=") == 2
        assert f"/v1/models/{model.id}/weights" in page
        assert "cross_entropy" in page
        assert "—" in page  # the NaN test loss

    def test_unknown_model_is_an_html_404(self, client: TestClient) -> None:
        assert client.get(f"/models/{uuid.uuid4()}").status_code == 404


class TestTenants:
    def test_another_tenants_pages_are_not_there(self, client: TestClient) -> None:
        with session_scope() as session:
            key, token = create_key(session, "other")
            tenant_id = key.tenant_id
        job = add_job(JobStatus.RUNNING, tenant_id=tenant_id)
        assert client.get(f"/jobs/{job.id}").status_code == 404
        assert f"/jobs/{job.id}" not in client.get("/").text
        mine = client.get(
            f"/jobs/{job.id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert mine.status_code == 200


class TestStatic:
    def test_serves_uplot_with_its_licence(self, client: TestClient) -> None:
        script = client.get("/static/vendor/uplot/uPlot.iife.min.js")
        assert script.status_code == 200 and "uPlot" in script.text[:200]
        assert (
            (STATIC / "vendor" / "uplot" / "LICENSE")
            .read_text()
            .startswith("The MIT License")
        )
        assert client.get("/static/job.js").status_code == 200

    def test_pages_stay_out_of_the_openapi_schema(self, client: TestClient) -> None:
        paths = client.get("/openapi.json").json()["paths"]
        assert "/" not in paths and "/jobs/{job_id}" not in paths
        assert "/v1/jobs/{job_id}/events" in paths


def test_headline_prefers_validation_then_quality_then_loss() -> None:
    assert headline({"loss": 0.3, "accuracy": 0.8, "val_accuracy": 0.7}) == (
        "val_accuracy",
        0.7,
    )
    assert headline({"loss": 0.3, "val_r2": None, "r2": 0.5}) == ("r2", 0.5)
    assert headline(None) is None


def test_heat_map_shades_each_cell_by_its_share_of_the_true_class() -> None:
    cells = heat_map([[3, 1], [0, 0]])
    assert cells is not None
    assert [cell.share for cell in cells[0]] == [0.75, 0.25]
    assert [cell.share for cell in cells[1]] == [0.0, 0.0]
    assert number(float("inf")) == "—" and number(0.123456) == "0.1235"
