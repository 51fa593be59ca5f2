"""Datasets as people have them: upload, inspect and delete over the real app
(CASES C5-C8; issue: datasets as people actually have them)."""

import io
import json
import zipfile

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.fixtures.data import iris_csv


def upload(  # type: ignore[no-untyped-def]
    client: TestClient, content: bytes, target: str = "y", filename="data.csv", **form
):
    return client.post(
        "/v1/datasets",
        files={"file": (filename, content, "application/octet-stream")},
        data={"name": "data", "target": target, **form},
    )


def rejected(
    response: httpx.Response, detail: str, field: str = "file", status: int = 422
) -> None:
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert (problem["field"], problem["detail"]) == (field, detail)


class TestListDatasets:
    def test_lists_the_five_builtins_with_their_shapes(
        self, client: TestClient
    ) -> None:
        # The built-in datasets are scikit-learn's real files, loaded offline.
        body = client.get("/v1/datasets").json()
        shapes = {
            d["id"]: (d["n_rows"], d["n_features"], d["task"]) for d in body["data"]
        }
        assert shapes == {
            "iris": (150, 4, "classification"),
            "wine": (178, 13, "classification"),
            "breast_cancer": (569, 30, "classification"),
            "digits": (1797, 64, "classification"),
            "diabetes": (442, 10, "regression"),
        }

    def test_an_upload_is_listed_after_the_builtins(self, client: TestClient) -> None:
        created = upload(client, iris_csv(), "species").json()
        ids = [d["id"] for d in client.get("/v1/datasets").json()["data"]]
        assert ids[-1] == created["id"] and len(ids) == 6


class TestUploadCsv:
    def test_iris_with_string_species(self, client: TestClient) -> None:
        body = upload(client, iris_csv(), "species").json()
        assert (body["n_rows"], body["n_features"], body["task"]) == (
            150, 4, "classification",
        )  # fmt: skip
        assert body["classes"] == ["setosa", "versicolor", "virginica"]

    def test_byte_order_mark_is_not_part_of_the_first_column(
        self, client: TestClient
    ) -> None:
        # CASES C5: a UTF-8 BOM before "quality" must not hide the target.
        content = b"\xef\xbb\xbfquality,alcohol,ph\n5,9.4,3.51\n6,9.8,3.2\n5,9.1,3.3\n"
        body = upload(client, content, "quality").json()
        assert body["target"] == "quality"
        assert body["features"] == ["alcohol", "ph"]
        assert body["classes"] == [5, 6]

    def test_semicolons_and_declared_decimal_commas(self, client: TestClient) -> None:
        # CASES C6, with the option: the first row reads 1.5, 2.25, 3.0.
        content = (
            b"x1;x2;y\n1,5;2,25;3,0\n2,0;1,75;3,5\n0,5;3,00;2,0\n4,25;0,5;5,5\n"
            b"3,0;2,0;4,0\n1,0;1,0;1,5\n"
        )
        body = upload(client, content, decimal=",").json()
        assert body["task"] == "regression"
        detail = client.get(f"/v1/datasets/{body['id']}").json()
        assert detail["options"]["delimiter"] == ";"
        assert [c["type"] for c in detail["columns"]] == ["numeric", "numeric"]
        assert detail["columns"][0]["min"] == 0.5
        assert detail["columns"][1]["max"] == 3.0

    def test_decimal_commas_undeclared_name_the_option(
        self, client: TestClient
    ) -> None:
        # CASES C6, without the option: never text columns, never split on commas.
        content = b"x1;x2;y\n1,5;2,25;3,0\n2,0;1,75;3,5\n0,5;3,00;2,0\n"
        rejected(
            upload(client, content),
            "column 'x1': values such as '1,5' look like decimal commas in a "
            "';'-separated file; set decimal to ','",
            field="decimal",
        )

    def test_missing_values_are_profiled_not_refused(self, client: TestClient) -> None:
        # CASES C7: "?" and empty cells are missing; a trailing blank line is no row.
        content = (
            b"size,rooms,age,color,price\n50,2,10,red,120\n70,3,5,blue,180\n"
            b"65,?,8,red,160\n80,4,,blue,210\n45,1,20,red,95\n\n"
        )
        body = upload(client, content, "price").json()
        assert body["n_rows"] == 5
        columns = client.get(f"/v1/datasets/{body['id']}").json()["columns"]
        summary = {
            c["name"]: (c["type"], c["missing"], c["first_missing_row"])
            for c in columns
        }
        assert summary == {
            "size": ("numeric", 0, None),
            "rooms": ("numeric", 1, 3),
            "age": ("numeric", 1, 4),
            "color": ("categorical", 0, None),
        }

    def test_quoted_fields_hold_delimiters_and_newlines(
        self, client: TestClient
    ) -> None:
        content = b'a,note,y\n1,"x, with comma",0\n2,"two\nlines",1\n3,plain,0\n'
        body = upload(client, content, ignore="note").json()
        assert body["n_rows"] == 3 and body["features"] == ["a"]

    def test_header_less_file_takes_the_target_by_index(
        self, client: TestClient
    ) -> None:
        body = upload(client, b"1,2,0\n3,4,1\n5,6,0\n", "2").json()
        assert body["features"] == ["column_0", "column_1"]
        assert body["target"] == "column_2"

    def test_column_types_override_inference(self, client: TestClient) -> None:
        content = b"zip,x,y\n1001,0.5,a\n1002,0.7,b\n1001,0.1,a\n"
        body = upload(client, content, column_types=json.dumps({"zip": "categorical"}))
        columns = client.get(f"/v1/datasets/{body.json()['id']}").json()["columns"]
        assert columns[0]["type"] == "categorical"
        assert columns[0]["categories"] == {"1001": 2, "1002": 1}

    def test_target_absent_lists_the_columns(self, client: TestClient) -> None:
        rejected(
            upload(client, b"a,b,c\n1,2,3\n4,5,6\n", "label"),
            "target column 'label' is not in the file; its columns are a, b, c",
            field="target",
        )

    def test_ragged_row_names_the_line(self, client: TestClient) -> None:
        rejected(
            upload(client, b"a,b,y\n1,2,0\n3,4\n5,6,1\n"),
            "line 3 has 2 fields; the header has 3",
        )

    def test_text_in_a_declared_numeric_column(self, client: TestClient) -> None:
        rejected(
            upload(
                client,
                b"a,b,y\n1,2,0\n3,abc,1\n",
                column_types=json.dumps({"b": "numeric"}),
            ),  # fmt: skip
            "data row 2, column 'b': 'abc' is not a number",
        )

    def test_stray_carriage_return_is_malformed_not_a_crash(
        self, client: TestClient
    ) -> None:
        # Found by the schema fuzzer: the header sniffing met it first.
        rejected(
            upload(client, b"\r0\r\n"),
            "line 1: the CSV is malformed (new-line character seen in unquoted "
            "field - do you need to open the file in universal-newline mode?)",
        )

    def test_empty_file(self, client: TestClient) -> None:
        rejected(upload(client, b""), "the file is empty: a header row is needed")

    def test_binary_file_is_not_text(self, client: TestClient) -> None:
        rejected(
            upload(client, b"a,y\n\xff\xfe\x00\x01,1\n"), "the file is not UTF-8 text"
        )

    def test_single_class_target(self, client: TestClient) -> None:
        rejected(
            upload(client, b"a,y\n1,cat\n2,cat\n3,cat\n"),
            "target column 'y' has a single class ('cat'); "
            "classification needs at least two",
            field="target",
        )

    def test_missing_target_value_names_the_row(self, client: TestClient) -> None:
        rejected(
            upload(client, b"a,y\n1,0\n2,\n3,1\n"),
            "data row 2 (line 3): the target 'y' is missing; a target cannot be "
            "imputed",
            field="target",
        )

    def test_rejected_upload_stores_nothing(self, client: TestClient) -> None:
        upload(client, b"a,b,y\n1,2,0\n3,4\n")
        assert client.get("/v1/datasets").json()["count"] == 5

    def test_missing_form_field_is_named(self, client: TestClient) -> None:
        response = client.post(
            "/v1/datasets", files={"file": ("d.csv", b"a,y\n1,2\n", "text/csv")}
        )
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"name"}


class TestUploadJson:
    def test_records_with_mixed_types(self, client: TestClient) -> None:
        records = [
            {"x": 1.5, "color": "red", "ok": True, "y": "a"},
            {"x": 2.0, "color": "blue", "ok": False, "y": "b"},
            {"x": None, "color": "red", "ok": True, "y": "a"},
        ]
        body = upload(client, json.dumps(records).encode(), filename="d.json").json()
        columns = client.get(f"/v1/datasets/{body['id']}").json()["columns"]
        assert [(c["name"], c["type"], c["missing"]) for c in columns] == [
            ("x", "numeric", 1), ("color", "categorical", 0), ("ok", "boolean", 0),
        ]  # fmt: skip

    def test_object_of_columns(self, client: TestClient) -> None:
        document = {"a": [1, 2, 3, 4], "y": [0.5, 1.5, 2.5, 3.5]}
        body = upload(client, json.dumps(document).encode(), filename="d.json").json()
        assert (body["n_rows"], body["task"]) == (4, "regression")

    def test_columns_of_different_lengths(self, client: TestClient) -> None:
        rejected(
            upload(client, b'{"a": [1, 2], "y": [1]}', filename="d.json"),
            "the columns differ in length (a: 2, y: 1)",
        )


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


class TestUploadNpz:
    def test_x_and_string_labels(self, client: TestClient) -> None:
        x = np.arange(20.0).reshape(10, 2)
        y = np.array(["low", "high"] * 5)
        body = upload(client, npz_bytes(x=x, y=y), filename="d.npz").json()
        assert (body["n_rows"], body["features"], body["classes"]) == (
            10, ["x0", "x1"], ["high", "low"],
        )  # fmt: skip

    def test_object_array_is_refused_without_unpickling(
        self, client: TestClient
    ) -> None:
        # CASES C8: unpickling an object array could run code.
        # The y member's header declares dtype object; its body is a pickle's
        # first bytes. Written by hand, so the test needs no pickle either.
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "|O", "fortran_order": False, "shape": (3,)}
        )
        x = io.BytesIO()
        np.save(x, np.zeros((3, 2)))
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("x.npy", x.getvalue())
            zf.writestr("y.npy", header.getvalue() + b"\x80\x04K\x01.")
        rejected(
            upload(client, archive.getvalue(), filename="d.npz"),
            "member 'y.npy' is an object array; object arrays are not accepted "
            "(reading them would unpickle); store strings as a fixed-width "
            "unicode array",
        )

    def test_header_declaring_8_gb_is_refused_before_inflating(
        self, client: TestClient
    ) -> None:
        # CASES C8: decided from the array header, before decompressing.
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (10**9, 1)}
        )
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("x.npy", header.getvalue() + bytes(8 * 1024 * 1024))
            zf.writestr("y.npy", header.getvalue())
        rejected(
            upload(client, archive.getvalue(), filename="d.npz"),
            "member 'x.npy' declares 8000000000 bytes uncompressed; the limit is "
            "536870912 (DESCENT_MAX_DATASET_BYTES)",
            status=413,
        )


class TestDatasetDetail:
    def test_builtin_detail(self, client: TestClient) -> None:
        detail = client.get("/v1/datasets/iris").json()
        assert detail["class_counts"] == {
            "setosa": 50,
            "versicolor": 50,
            "virginica": 50,
        }
        assert detail["columns"][0]["min"] == pytest.approx(4.3)
        assert len(detail["preview"]) == 5

    def test_upload_detail_has_class_balance_and_preview(
        self, client: TestClient
    ) -> None:
        created = upload(client, iris_csv(), "species").json()
        detail = client.get(f"/v1/datasets/{created['id']}").json()
        assert detail["class_counts"] == {
            "setosa": 50,
            "versicolor": 50,
            "virginica": 50,
        }
        assert detail["preview"][0]["species"] == "setosa"
        assert detail["format"] == "csv" and len(detail["sha256"]) == 64

    def test_unknown_id_is_404(self, client: TestClient) -> None:
        response = client.get("/v1/datasets/00000000-0000-0000-0000-000000000000")
        assert response.status_code == 404


class TestDeleteDataset:
    def test_deletes_an_unused_dataset(self, client: TestClient) -> None:
        created = upload(client, iris_csv(), "species").json()
        assert client.delete(f"/v1/datasets/{created['id']}").status_code == 204
        assert client.get(f"/v1/datasets/{created['id']}").status_code == 404

    def test_a_queued_job_keeps_it(self, client: TestClient) -> None:
        created = upload(client, iris_csv(), "species").json()
        job = client.post(
            "/v1/jobs",
            json={
                "dataset": created["id"],
                "network": {"layers": [{"units": 3, "activation": "softmax"}]},
                "loss": "cross_entropy",
            },
        )
        assert job.status_code == 202, job.text
        response = client.delete(f"/v1/datasets/{created['id']}")
        assert response.status_code == 409
        assert response.json()["detail"].startswith(
            f"dataset {created['id']} is needed by 1 queued or running job(s)"
        )


class TestFoundByAUser:
    """Inputs a fresh user tried that once crashed or misled."""

    def test_one_text_cell_in_a_number_column_is_named(
        self, client: TestClient
    ) -> None:
        rows = "".join(f"{i},{i * 0.5},{i % 2}\n" for i in range(20))
        content = f"a,b,y\n{rows}99,abc,1\n".encode()
        rejected(
            upload(client, content),
            "column 'b' holds numbers, but data row 21 holds 'abc', which is not a "
            "finite number; fix that cell, leave it empty to mark it missing, or "
            "declare the column categorical with column_types",
        )

    def test_deeply_nested_json(self, client: TestClient) -> None:
        content = b"[" + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"]"
        rejected(
            upload(client, content, filename="d.json"),
            "the JSON nests too deeply to be a table",
        )

    def test_npz_header_promising_more_rows_than_stored(
        self, client: TestClient
    ) -> None:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (60, 1)}
        )
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("x.npy", header.getvalue() + np.zeros(50).tobytes())
            y = io.BytesIO()
            np.save(y, np.zeros(60))
            zf.writestr("y.npy", y.getvalue())
        response = upload(client, archive.getvalue(), filename="d.npz")
        assert response.status_code == 422
        assert response.json()["detail"].startswith("the archive cannot be read:")

    def test_npz_infinity_and_nan_target(self, client: TestClient) -> None:
        x = np.ones((5, 2))
        x[2, 1] = np.inf
        rejected(
            upload(client, npz_bytes(x=x, y=np.arange(5.0)), filename="d.npz"),
            "x holds an infinite value at row 3, column 1; NaN marks a missing "
            "value, infinity is not accepted",
        )
        y = np.array([0.0, 1.0, np.nan, 1.0, 0.0])
        rejected(
            upload(client, npz_bytes(x=np.ones((5, 2)), y=y), filename="d.npz"),
            "y holds nan at row 3; a target cannot be missing",
            field="target",
        )

    def test_npz_repeated_feature_names(self, client: TestClient) -> None:
        names = np.array(["f", "f"])
        content = npz_bytes(x=np.ones((4, 2)), y=np.arange(4.0), feature_names=names)
        rejected(upload(client, content, filename="d.npz"), "feature_names repeat: f")

    def test_an_empty_column_refuses_the_job_not_the_worker(
        self, client: TestClient
    ) -> None:
        content = b"a,b,y\n1,,0\n2,,1\n3,,0\n4,,1\n"
        created = upload(client, content).json()
        response = client.post(
            "/v1/jobs",
            json={
                "dataset": created["id"],
                "network": {"layers": [{"units": 2, "activation": "softmax"}]},
                "loss": "cross_entropy",
                "preprocessing": {"missing": "mean"},
            },
        )
        assert response.status_code == 422
        assert response.json()["detail"].startswith(
            "column 'b' of the dataset has no values at all"
        )
