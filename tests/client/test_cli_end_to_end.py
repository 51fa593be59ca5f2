"""``descent train --watch`` and ``descent predict`` against the real launcher
and a real Celery worker process, over HTTP on loopback."""

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from client import Client
from client.cli import app
from tests.fixtures.service import Service

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DIGITS = str(ROOT / "examples" / "digits.yaml")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = Service(tmp_path_factory.mktemp("descent-cli")).start()
    yield running
    running.stop()


@pytest.fixture
def runner(service: Service) -> CliRunner:
    # The URL arrives the way a user's shell would give it: DESCENT_URL.
    return CliRunner(env={"DESCENT_URL": service.url, "DESCENT_API_KEY": None})


def digits_csv(path: Path, size: int = 20) -> None:
    """Rows of digits with a header of the model's feature names and a label."""
    bunch = load_digits()
    picked = np.random.default_rng(7).choice(len(bunch.data), size, replace=False)
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([*bunch.feature_names, "label"])
        for index in picked:
            row = [f"{value:g}" for value in bunch.data[index]]
            writer.writerow([*row, int(bunch.target[index])])


def test_watch_then_predict_gives_the_true_labels(
    runner: CliRunner, service: Service, tmp_path: Path
) -> None:
    # Issue must-show: train with a live bar, then predict a CSV from the shell.
    trained = runner.invoke(
        app, ["train", DIGITS, "--dataset", "digits", "--watch", "--poll", "0.2"]
    )
    assert trained.exit_code == 0, (trained.output, service.logs())
    assert "epoch 30/30" in trained.stderr
    assert "val_accuracy" in trained.stdout
    with Client(service.url) as client:
        job = client.jobs(limit=1)[0]
    assert job.status == "succeeded" and job.model_id is not None
    assert job.model_id in trained.stdout

    rows, predicted = tmp_path / "digits.csv", tmp_path / "predicted.csv"
    digits_csv(rows)
    result = runner.invoke(
        app, ["predict", job.model_id, str(rows), "--output", str(predicted)]
    )
    assert result.exit_code == 0, result.output
    with predicted.open(newline="") as file:
        table = list(csv.DictReader(file))
    assert len(table) == 20
    header = list(table[0])
    assert header[-11:] == ["prediction"] + [f"probability_{d}" for d in range(10)]
    agree = sum(int(row["prediction"]) == int(row["label"]) for row in table)
    assert agree >= 18, f"{agree} of 20 predictions match the labels"
    for row in table:
        total = sum(float(row[f"probability_{d}"]) for d in range(10))
        assert total == pytest.approx(1.0, abs=1e-4)


def test_a_failed_job_exits_1_with_its_error(runner: CliRunner, tmp_path: Path) -> None:
    # A diverging job must not look like success to a shell script.
    spec = {
        "network": {"layers": [{"units": 32, "activation": "relu"}, {"units": 1}]},
        "loss": "mse",
        "optimizer": {"name": "sgd", "learning_rate": 10.0},
        "training": {"epochs": 30, "batch_size": 32},
    }
    path = tmp_path / "diverges.json"
    path.write_text(json.dumps(spec))
    result = runner.invoke(
        app, ["train", str(path), "--dataset", "diabetes", "--watch", "--poll", "0.2"]
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: job ") and "failed: " in last
    assert "diverged" in last
