"""The ``descent`` command against the real API over HTTP, with no worker."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from client import Client
from client.cli import app
from tests.fixtures.data import iris_csv

ROOT = Path(__file__).resolve().parents[2]
DIGITS = str(ROOT / "examples" / "digits.yaml")
Run = Callable[..., Result]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def descent_cli(server: str) -> Run:
    """Run ``descent --url SERVER ARGS...`` in-process, with no key set."""
    runner = CliRunner(env={"DESCENT_URL": None, "DESCENT_API_KEY": None})

    def run(*args: str, url: str = server) -> Result:
        return runner.invoke(app, ["--url", url, *args], catch_exceptions=False)

    return run


def assert_one_red_line(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    line = result.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line, result.stderr
    for fragment in fragments:
        assert fragment in line


class TestDatasets:
    def test_list_shows_the_five_builtins(self, descent_cli: Run) -> None:
        result = descent_cli("datasets", "list")
        assert result.exit_code == 0, result.output
        for name in ("iris", "wine", "breast_cancer", "digits", "diabetes"):
            assert name in result.stdout

    def test_upload_prints_the_new_id(self, descent_cli: Run, tmp_path: Path) -> None:
        path = tmp_path / "flowers.csv"
        path.write_bytes(iris_csv())
        result = descent_cli(
            "datasets", "upload", str(path), "--target", "species", "--name", "fl"
        )
        assert result.exit_code == 0, result.output
        dataset_id = UUID.search(result.stdout)
        assert dataset_id is not None
        assert f"--dataset {dataset_id.group()}" in result.stdout

    def test_upload_of_a_missing_file_is_one_line(
        self,
        descent_cli: Run,
        tmp_path: Path,
    ) -> None:
        result = descent_cli(
            "datasets", "upload", str(tmp_path / "none.csv"), "--target", "y"
        )
        assert_one_red_line(result, "none.csv", "No such file")


class TestTrain:
    def test_queues_a_job_that_jobs_lists(self, descent_cli: Run, server: str) -> None:
        result = descent_cli("train", DIGITS, "--dataset", "digits")
        assert result.exit_code == 0, result.output
        match = UUID.search(result.stdout)
        assert match is not None and "30 epochs on digits" in result.stdout
        job_id = match.group()
        with Client(server) as client:
            assert client.job(job_id).status == "queued"

        listing = descent_cli("jobs")
        assert listing.exit_code == 0, listing.output
        assert job_id in listing.stdout
        assert "queued" in listing.stdout

        shown = descent_cli("jobs", "show", job_id)
        assert shown.exit_code == 0, shown.output
        assert "128 relu → 64 relu → 10 softmax" in shown.stdout
        assert "queued" in shown.stdout

        cancelled = descent_cli("cancel", job_id)
        assert cancelled.exit_code == 0, cancelled.output
        assert f"Job {job_id} is cancelled." in cancelled.stdout

    def test_a_bad_spec_is_one_line_naming_the_field(
        self,
        descent_cli: Run,
        tmp_path: Path,
    ) -> None:
        spec = tmp_path / "bad.yaml"
        spec.write_text(Path(DIGITS).read_text().replace("cross_entropy", "hinge"))
        result = descent_cli("train", str(spec), "--dataset", "digits")
        assert_one_red_line(result, "loss")

    def test_a_spec_without_a_dataset_asks_for_one(self, descent_cli: Run) -> None:
        result = descent_cli("train", DIGITS)
        assert_one_red_line(result, "--dataset")

    def test_a_spec_that_is_not_yaml_or_json_is_refused(
        self,
        descent_cli: Run,
        tmp_path: Path,
    ) -> None:
        spec = tmp_path / "spec.toml"
        spec.write_text("loss = 'mse'\n")
        assert_one_red_line(descent_cli("train", str(spec)), ".yaml", ".json")

    def test_broken_yaml_names_the_line(self, descent_cli: Run, tmp_path: Path) -> None:
        spec = tmp_path / "spec.yaml"
        spec.write_text("network:\n  layers: [\n")
        result = descent_cli("train", str(spec), "--dataset", "digits")
        assert_one_red_line(result, "spec.yaml, line", "not valid YAML")


class TestErrors:
    def test_an_unreachable_url_is_one_line_naming_it(
        self,
        descent_cli: Run,
        closed_url: str,
    ) -> None:
        result = descent_cli("datasets", "list", url=closed_url)
        assert_one_red_line(result, closed_url, "make run")

    def test_an_unknown_job_is_one_line(self, descent_cli: Run) -> None:
        result = descent_cli("jobs", "show", "00000000-0000-0000-0000-000000000000")
        assert_one_red_line(result, "does not exist")

    def test_predict_with_an_unknown_model_is_one_line(
        self,
        descent_cli: Run,
        tmp_path: Path,
    ) -> None:
        rows = tmp_path / "rows.csv"
        rows.write_text("a,b\n1,2\n")
        model = "00000000-0000-0000-0000-000000000000"
        result = descent_cli("predict", model, str(rows))
        assert_one_red_line(result, f"model {model} does not exist")
