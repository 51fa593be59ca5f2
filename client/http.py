"""A typed Python client for Descent's HTTP API.

    from client import Client

    job = Client("http://127.0.0.1:8000").train(spec, "digits").wait()
    Client().predict(job.model_id, rows)

The URL and API key default to ``DESCENT_URL`` and ``DESCENT_API_KEY``.
"""

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import httpx

from client.errors import DescentError, error_from_response
from client.resources import Dataset, EpochMetrics, Job, Model, Prediction

DEFAULT_URL = "http://127.0.0.1:8000"

# Rows sent in one prediction request; the server's own limit defaults to
# 10,000 (DESCENT_MAX_PREDICTION_ROWS), so this stays well inside it.
PREDICT_BATCH_ROWS = 1000

Row = Sequence[float] | Mapping[str, float]


class Client:
    """Descent's API over HTTP; every failure raises ``DescentError``.

    Parameters
    ----------
    url : str, optional
        The server, e.g. ``"http://127.0.0.1:8000"``; default ``DESCENT_URL``.
    key : str, optional
        An API key, sent as ``Authorization: Bearer``; default ``DESCENT_API_KEY``.
    timeout : float
        Seconds to wait for any one answer.
    http : httpx.Client, optional
        The transport to use instead of a new one (tests, proxies, retries).
    """

    def __init__(
        self,
        url: str | None = None,
        key: str | None = None,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.url = (url or os.environ.get("DESCENT_URL") or DEFAULT_URL).rstrip("/")
        key = key if key is not None else os.environ.get("DESCENT_API_KEY")
        self.timeout = timeout
        self._headers = {"Accept": "application/json, application/problem+json"}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # --- requests -------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; raise DescentError for any failure or 4xx/5xx."""
        try:
            response = self._http.request(
                method, f"{self.url}{path}", headers=self._headers, **kwargs
            )
        except httpx.ConnectError as error:
            raise DescentError(
                f"could not connect to {self.url} ({_reason(error)}); is Descent "
                "running there? `make run` starts it on this machine"
            ) from error
        except httpx.TimeoutException as error:
            raise DescentError(
                f"{self.url} did not answer within {self.timeout} s"
            ) from error
        except httpx.HTTPError as error:
            raise DescentError(f"request to {self.url} failed: {error}") from error
        if response.is_error:
            raise error_from_response(response)
        return response

    def get_json(self, path: str, **params: Any) -> Any:
        return self._json(self.request("GET", path, params=params or None))

    def post_json(self, path: str, body: Any = None) -> Any:
        return self._json(self.request("POST", path, json=body))

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as error:
            raise DescentError(
                f"{self.url} answered {response.request.url.path} with something "
                "other than JSON; is that address a Descent server?",
                status=response.status_code,
            ) from error

    # --- datasets -------------------------------------------------------------

    def datasets(self) -> list[Dataset]:
        """The built-in datasets, then uploaded ones, newest first."""
        body = self.get_json("/v1/datasets")
        return [Dataset.from_json(item) for item in body["data"]]

    def upload_dataset(
        self,
        path: str | Path,
        target: str,
        name: str | None = None,
        task: str | None = None,
    ) -> Dataset:
        """Upload a CSV file with a header row; ``target`` names the label column.

        ``task`` ("classification" or "regression") overrides what the server
        infers from the target column.
        """
        path = Path(path)
        form = {"name": name or path.stem, "target": target}
        if task is not None:
            form["task"] = task
        with path.open("rb") as file:
            files = {"file": (path.name, file, "text/csv")}
            response = self.request("POST", "/v1/datasets", data=form, files=files)
        return Dataset.from_json(self._json(response))

    # --- jobs -----------------------------------------------------------------

    def train(self, spec: Mapping[str, Any], dataset: str) -> Job:
        """Queue a training job for ``spec`` (network, loss, optimizer, training).

        ``dataset`` is a built-in name such as ``"digits"`` or an uploaded
        dataset's id; it replaces any ``dataset`` in ``spec``.
        """
        body = {**spec, "dataset": dataset}
        return Job.from_json(self.post_json("/v1/jobs", body), self)

    def jobs(self, limit: int = 50, offset: int = 0) -> list[Job]:
        """Jobs, newest first."""
        body = self.get_json("/v1/jobs", limit=limit, offset=offset)
        return [Job.from_json(item, self) for item in body["data"]]

    def job(self, job_id: str) -> Job:
        return Job.from_json(self.get_json(f"/v1/jobs/{job_id}"), self)

    def metrics(self, job_id: str) -> list[EpochMetrics]:
        """Every finished epoch's metrics for a job, in order."""
        body = self.get_json(f"/v1/jobs/{job_id}/metrics")
        return [EpochMetrics.from_json(item) for item in body["data"]]

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued job at once, or ask the worker to stop a running one."""
        return Job.from_json(self.post_json(f"/v1/jobs/{job_id}/cancel"), self)

    # --- models ---------------------------------------------------------------

    def model(self, model_id: str) -> Model:
        return Model.from_json(self.get_json(f"/v1/models/{model_id}"))

    def predict(self, model_id: str, rows: Any) -> Prediction:
        """Predict for raw feature rows.

        ``rows`` holds lists of values in the model's feature order, or
        mappings from feature name to value, or is a 2-D NumPy array.
        Large inputs are sent in several requests and joined.
        """
        if hasattr(rows, "tolist"):
            rows = rows.tolist()
        rows = list(rows)
        if rows and isinstance(rows[0], Mapping):
            rows = _ordered(rows, self.model(model_id).features)
        predictions: list[Any] = []
        probabilities: list[list[float]] | None = None
        for start in range(0, max(len(rows), 1), PREDICT_BATCH_ROWS):
            chunk = rows[start : start + PREDICT_BATCH_ROWS]
            body = self.post_json(f"/v1/models/{model_id}/predict", {"inputs": chunk})
            predictions.extend(body["predictions"])
            if body.get("probabilities") is not None:
                probabilities = (probabilities or []) + body["probabilities"]
        return Prediction(predictions=predictions, probabilities=probabilities)


def _ordered(rows: list[Mapping[str, float]], features: list[str]) -> list[list[float]]:
    ordered = []
    for index, row in enumerate(rows):
        missing = [name for name in features if name not in row]
        if missing:
            raise DescentError(
                f"row {index} lacks the model's features {', '.join(missing)}",
                field=f"inputs[{index}]",
            )
        ordered.append([row[name] for name in features])
    return ordered


def _reason(error: httpx.ConnectError) -> str:
    text = str(error)
    return "connection refused" if "refused" in text.lower() else text or "no answer"
