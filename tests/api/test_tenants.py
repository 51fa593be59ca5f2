"""Tenants, keys and limits through the real app (issue: trustworthy under
faults, load and hostile input): another tenant's ids answer 404 on every
endpoint, keys are stored hashed, retries with an Idempotency-Key create
nothing new, and every size limit answers 413 or 422 naming the setting."""

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from persistence.db import session_scope
from persistence.models import ApiKey
from persistence.settings import get_settings
from persistence.tenants import create_key, revoke_key
from tests.api.test_models import model_id as model_id  # noqa: F401  (fixture)
from tests.fixtures.data import iris_csv
from tests.fixtures.specs import dense, digits_spec


def key_for(tenant: str) -> dict[str, str]:
    with session_scope() as session:
        _, token = create_key(session, tenant)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def strict(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DESCENT_AUTH", "required")
    get_settings.cache_clear()
    from api.main import create_app
    from persistence.migrate import upgrade

    upgrade()
    with TestClient(create_app()) as client:
        yield client


class TestKeys:
    def test_no_key_is_401_with_a_challenge(self, strict: TestClient) -> None:
        response = strict.get("/v1/jobs")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="descent"'
        assert response.json()["field"] == "Authorization"

    def test_a_wrong_or_revoked_key_is_401(self, strict: TestClient) -> None:
        assert (
            strict.get(
                "/v1/jobs", headers={"Authorization": "Bearer dsk_nope"}
            ).status_code
            == 401
        )
        with session_scope() as session:
            key, token = create_key(session, "acme")
        headers = {"Authorization": f"Bearer {token}"}
        assert strict.get("/v1/jobs", headers=headers).status_code == 200
        with session_scope() as session:
            assert revoke_key(session, key.id)
        assert strict.get("/v1/jobs", headers=headers).status_code == 401

    def test_only_the_hash_is_stored(self, strict: TestClient) -> None:
        with session_scope() as session:
            key, token = create_key(session, "acme")
            row = session.get(ApiKey, key.id)
            assert row is not None
            assert row.digest == hashlib.sha256(token.encode()).hexdigest()
            assert token not in (row.digest, row.lookup)

    def test_health_needs_no_key(self, strict: TestClient) -> None:
        assert strict.get("/healthz").status_code == 200


class TestIsolation:
    def test_another_tenants_ids_answer_404_everywhere(
        self, strict: TestClient
    ) -> None:
        alice, bob = key_for("alice"), key_for("bob")
        upload = strict.post(
            "/v1/datasets",
            files={"file": ("iris.csv", iris_csv(), "text/csv")},
            data={"name": "iris", "target": "species"},
            headers=alice,
        ).json()
        spec = {
            "dataset": upload["id"],
            "network": {"layers": [{"units": 3, "activation": "softmax"}]},
            "loss": "cross_entropy",
        }
        job = strict.post("/v1/jobs", json=spec, headers=alice).json()
        for method, url in [
            ("GET", f"/v1/datasets/{upload['id']}"),
            ("DELETE", f"/v1/datasets/{upload['id']}"),
            ("GET", f"/v1/jobs/{job['id']}"),
            ("GET", f"/v1/jobs/{job['id']}/metrics"),
            ("GET", f"/v1/jobs/{job['id']}/events"),
            ("POST", f"/v1/jobs/{job['id']}/cancel"),
        ]:
            assert strict.request(method, url, headers=bob).status_code == 404, url
        # Bob cannot train on Alice's data either, nor list her things.
        assert strict.post("/v1/jobs", json=spec, headers=bob).status_code == 404
        assert strict.get("/v1/jobs", headers=bob).json()["count"] == 0
        assert len(strict.get("/v1/datasets", headers=bob).json()["data"]) == 5
        assert strict.get(f"/v1/jobs/{job['id']}", headers=alice).status_code == 200

    def test_another_tenants_model_answers_404(
        self,
        client: TestClient,
        model_id: str,  # noqa: F811
    ) -> None:
        # The fixture's model belongs to the default tenant (no key).
        bob = key_for("bob")
        for method, url, body in [
            ("GET", f"/v1/models/{model_id}", None),
            ("GET", f"/v1/models/{model_id}/weights", None),
            ("POST", f"/v1/models/{model_id}/predict", {"inputs": [[1, 2, 3, 4]]}),
        ]:
            response = client.request(method, url, json=body, headers=bob)
            assert response.status_code == 404, url
        assert client.get(f"/v1/models/{model_id}").status_code == 200


class TestIdempotency:
    def test_a_retried_job_returns_the_first_answer(self, client: TestClient) -> None:
        headers = {"Idempotency-Key": "job-1"}
        first = client.post("/v1/jobs", json=digits_spec(), headers=headers)
        again = client.post("/v1/jobs", json=digits_spec(), headers=headers)
        assert (first.status_code, again.status_code) == (202, 202)
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        assert client.get("/v1/jobs").json()["count"] == 1

    def test_the_same_key_for_another_request_is_422(self, client: TestClient) -> None:
        headers = {"Idempotency-Key": "job-2"}
        client.post("/v1/jobs", json=digits_spec(), headers=headers)
        other = digits_spec(training={"epochs": 3})
        response = client.post("/v1/jobs", json=other, headers=headers)
        assert response.status_code == 422
        assert response.json()["field"] == "Idempotency-Key"
        assert client.get("/v1/jobs").json()["count"] == 1

    def test_a_retried_upload_stores_one_dataset(self, client: TestClient) -> None:
        def send():  # type: ignore[no-untyped-def]
            return client.post(
                "/v1/datasets",
                files={"file": ("iris.csv", iris_csv(), "text/csv")},
                data={"name": "iris", "target": "species"},
                headers={"Idempotency-Key": "upload-1"},
            )

        first, again = send(), send()
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json()["id"] == first.json()["id"]
        assert client.get("/v1/datasets").json()["count"] == 6


class TestLimits:
    @pytest.fixture
    def tight(
        self, data_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[TestClient]:
        for name, value in {
            "DESCENT_MAX_JSON_BODY_BYTES": "4000",
            "DESCENT_MAX_UPLOAD_BYTES": "2000",
            "DESCENT_MAX_QUEUED_JOBS_PER_TENANT": "2",
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        from api.main import create_app
        from persistence.migrate import upgrade

        upgrade()
        with TestClient(create_app()) as client:
            yield client

    def test_json_body_over_the_limit_is_413_by_its_length(
        self, tight: TestClient
    ) -> None:
        response = tight.post(
            "/v1/models/00000000-0000-0000-0000-000000000000/predict",
            json={"inputs": [[1.0] * 2000]},
        )
        assert response.status_code == 413
        assert "DESCENT_MAX_JSON_BODY_BYTES" in response.json()["detail"]

    def test_a_streamed_body_is_cut_at_the_limit(self, tight: TestClient) -> None:
        chunks = (b'{"inputs": [[' + b"1.0," * 500 + b"1.0]]}" for _ in range(3))
        response = tight.post(
            f"/v1/models/{uuid.uuid4()}/predict",
            content=chunks,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["type"] == "urn:descent:problem:payload-too-large"

    def test_upload_over_the_limit_is_413(self, tight: TestClient) -> None:
        response = tight.post(
            "/v1/datasets",
            files={"file": ("iris.csv", iris_csv(), "text/csv")},
            data={"name": "iris", "target": "species"},
        )
        assert response.status_code == 413

    def test_queued_jobs_per_tenant(self, tight: TestClient) -> None:
        spec = digits_spec(training={"epochs": 1})
        for _ in range(2):
            assert tight.post("/v1/jobs", json=spec).status_code == 202
        response = tight.post("/v1/jobs", json=spec)
        assert response.status_code == 422
        assert "DESCENT_MAX_QUEUED_JOBS_PER_TENANT" in response.json()["detail"]

    @pytest.mark.parametrize(
        ("change", "field", "setting"),
        [
            (
                {"training": {"epochs": 10_001}},
                "training.epochs",
                "DESCENT_MAX_EPOCHS",
            ),
            (
                {"training": {"batch_size": 70_000}},
                "training.batch_size",
                "DESCENT_MAX_BATCH_SIZE",
            ),
            (
                {"network": {"layers": [dense(9000), dense(10, "softmax")]}},
                "network.layers[0].units",
                "DESCENT_MAX_UNITS",
            ),
            (
                {"network": {"layers": [dense(8)] * 64 + [dense(10, "softmax")]}},
                "network.layers",
                "DESCENT_MAX_LAYERS",
            ),
            (
                {"network": {"layers": [dense(8000)] * 2 + [dense(10, "softmax")]}},
                "network.layers",
                "DESCENT_MAX_PARAMETERS",
            ),
        ],
    )
    def test_network_and_training_limits(
        self, client: TestClient, change: dict, field: str, setting: str
    ) -> None:
        response = client.post("/v1/jobs", json=digits_spec(**change))
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field
        assert setting in response.json()["detail"]


class TestDashboardSignIn:
    def test_a_page_without_a_key_sends_the_browser_to_sign_in(
        self, strict: TestClient
    ) -> None:
        response = strict.get(
            "/", headers={"accept": "text/html"}, follow_redirects=False
        )
        assert (response.status_code, response.headers["location"]) == (303, "/login")
        assert strict.get("/v1/jobs").status_code == 401

    def test_a_wrong_key_is_refused_on_the_form(self, strict: TestClient) -> None:
        response = strict.post("/login", data={"key": "dsk_wrong"})
        assert response.status_code == 401
        assert "not valid" in response.text

    def test_signing_in_keeps_the_key_in_a_strict_http_only_cookie(
        self, strict: TestClient
    ) -> None:
        token = key_for("acme")["Authorization"].removeprefix("Bearer ")
        response = strict.post("/login", data={"key": token}, follow_redirects=False)
        assert response.status_code == 303
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        # The cookie now stands in for the header, on pages and on the API.
        assert strict.get("/", headers={"accept": "text/html"}).status_code == 200
        assert strict.get("/v1/jobs").status_code == 200
        strict.post("/logout")
        assert strict.get("/v1/jobs").status_code == 401
