"""Walk a running Descent through its main path and print the figures.

    make run &                  # in one terminal
    .venv/bin/python scripts/walkthrough.py [--url http://127.0.0.1:8000]

Trains digits (64-128-64-10), iris uploaded as a CSV with species names,
diabetes regression; cancels a 2,000-epoch job; prints what came back.
"""

import argparse
import csv
import io
import time

import httpx
import numpy as np
from sklearn.datasets import load_diabetes, load_digits, load_iris

DENSE = "dense"


def layers(*shape: tuple[int, str]) -> dict:
    return {"layers": [{"type": DENSE, "units": u, "activation": a} for u, a in shape]}


def wait(http: httpx.Client, job_id: str, until: tuple[str, ...]) -> dict:
    while True:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in until:
            return job
        time.sleep(0.2)


def train(http: httpx.Client, spec: dict) -> dict:
    response = http.post("/v1/jobs", json=spec)
    response.raise_for_status()
    return wait(http, response.json()["id"], ("succeeded", "failed", "cancelled"))


def predict(http: httpx.Client, job: dict, rows: np.ndarray) -> list:
    url = f"/v1/models/{job['model_id']}/predict"
    return http.post(url, json={"inputs": rows.tolist()}).json()["predictions"]


def iris_csv() -> bytes:
    bunch = load_iris()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*bunch.feature_names, "species"])
    for row, label in zip(bunch.data, bunch.target, strict=True):
        writer.writerow([*row, bunch.target_names[label]])
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    url = parser.parse_args().url
    http = httpx.Client(base_url=url, timeout=60)
    adam = {"name": "adam", "learning_rate": 0.001}

    job = train(
        http,
        {
            "dataset": "digits",
            "network": layers((128, "relu"), (64, "relu"), (10, "softmax")),
            "loss": "cross_entropy",
            "optimizer": adam,
            "training": {"epochs": 30, "batch_size": 32, "validation_split": 0.2},
        },
    )
    x, y = load_digits(return_X_y=True)
    rows = np.random.default_rng(1).choice(len(x), 200, replace=False)
    agree = np.mean(np.asarray(predict(http, job, x[rows])) == y[rows])
    print(
        f"digits: {job['status']}, val_accuracy {job['metrics']['val_accuracy']:.4f}, "
        f"200 predictions agree {agree:.3f}"
    )

    upload = http.post(
        "/v1/datasets",
        files={"file": ("iris.csv", iris_csv(), "text/csv")},
        data={"name": "iris-names", "target": "species"},
    ).json()
    job = train(
        http,
        {
            "dataset": upload["id"],
            "network": layers((16, "relu"), (3, "softmax")),
            "loss": "cross_entropy",
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "training": {"epochs": 60, "batch_size": 16},
        },
    )
    bunch = load_iris()
    labels = predict(http, job, bunch.data)
    right = np.mean(np.asarray(labels) == bunch.target_names[bunch.target])
    names = sorted(set(labels))
    print(f"iris csv: {job['status']}, {names}, train accuracy {right:.3f}")

    job = train(
        http,
        {
            "dataset": "diabetes",
            "network": layers((64, "relu"), (1, "linear")),
            "loss": "mse",
            "optimizer": adam,
            "training": {"epochs": 100, "batch_size": 32, "validation_split": 0.2},
        },
    )
    x, y = load_diabetes(return_X_y=True)
    values = predict(http, job, x[:5])
    print(
        f"diabetes: {job['status']}, val_r2 {job['metrics']['val_r2']:.4f}, "
        f"val_rmse {job['metrics']['val_rmse']:.2f}; first predictions "
        f"{np.round(values, 1).tolist()} vs truth {y[:5].tolist()}"
    )

    long_job = http.post(
        "/v1/jobs",
        json={
            "dataset": "digits",
            "network": layers((128, "relu"), (10, "softmax")),
            "loss": "cross_entropy",
            "training": {"epochs": 2000},
        },
    ).json()["id"]
    wait(http, long_job, ("running",))
    time.sleep(1)
    asked = time.monotonic()
    http.post(f"/v1/jobs/{long_job}/cancel")
    job = wait(http, long_job, ("cancelled", "failed", "succeeded"))
    print(
        f"cancel: {job['status']} after {time.monotonic() - asked:.2f} s "
        f"at epoch {job['epoch']} of {job['epochs']}"
    )


if __name__ == "__main__":
    main()
