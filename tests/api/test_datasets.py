"""POST and GET /v1/datasets through the real app on a scratch SQLite file."""

from fastapi.testclient import TestClient

from tests.fixtures.data import iris_csv


def upload(
    client: TestClient, content: bytes, target: str, name: str = "data", **form: str
):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/datasets",
        files={"file": ("data.csv", content, "text/csv")},
        data={"name": name, "target": target, **form},
    )


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
        iris = next(d for d in body["data"] if d["id"] == "iris")
        assert iris["classes"] == ["setosa", "versicolor", "virginica"]

    def test_an_upload_is_listed_after_the_builtins(self, client: TestClient) -> None:
        created = upload(client, iris_csv(), "species", name="my iris").json()
        ids = [d["id"] for d in client.get("/v1/datasets").json()["data"]]
        assert ids[-1] == created["id"]
        assert len(ids) == 6


class TestUploadDataset:
    def test_iris_with_string_species(self, client: TestClient) -> None:
        # The answer describes what was parsed: rows, features, task, classes.
        response = upload(client, iris_csv(), "species", name="iris-csv")
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["n_rows"] == 150
        assert body["n_features"] == 4
        assert body["features"] == [
            "sepal length (cm)",
            "sepal width (cm)",
            "petal length (cm)",
            "petal width (cm)",
        ]
        assert body["task"] == "classification"
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

    def test_numeric_target_with_many_values_is_regression(
        self, client: TestClient
    ) -> None:
        rows = "\n".join(f"{i},{i * 1.5}" for i in range(30))
        body = upload(client, f"x,y\n{rows}\n".encode(), "y").json()
        assert body["task"] == "regression"
        assert body["classes"] is None

    def test_missing_target_lists_the_columns(self, client: TestClient) -> None:
        response = upload(client, b"a,b,c\n1,2,3\n4,5,6\n", "label")
        assert response.status_code == 422
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert problem["field"] == "target"
        assert problem["detail"] == (
            "target column 'label' is not in the file; its columns are a, b, c"
        )

    def test_ragged_row_names_the_line(self, client: TestClient) -> None:
        response = upload(client, b"a,b,y\n1,2,0\n3,4\n5,6,1\n", "y")
        assert response.status_code == 422
        assert response.json()["detail"] == "line 3 has 2 fields; the header has 3"

    def test_text_in_a_numeric_column_names_line_column_value(
        self, client: TestClient
    ) -> None:
        response = upload(client, b"a,b,y\n1,2,0\n3,abc,1\n", "y")
        assert response.status_code == 422
        assert response.json()["detail"] == "line 3, column 'b': 'abc' is not a number"

    def test_empty_file(self, client: TestClient) -> None:
        response = upload(client, b"", "y")
        assert response.status_code == 422
        assert response.json()["detail"] == "the file is empty: a header row is needed"

    def test_binary_file_is_not_text(self, client: TestClient) -> None:
        response = upload(client, b"a,y\n\xff\xfe\x00\x01,1\n", "y")
        assert response.status_code == 422
        assert response.json()["detail"] == "the file is not UTF-8 text"

    def test_single_class_target(self, client: TestClient) -> None:
        response = upload(client, b"a,y\n1,cat\n2,cat\n3,cat\n", "y")
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "target column 'y' has a single class ('cat'); "
            "classification needs at least two"
        )

    def test_rejected_upload_stores_nothing(self, client: TestClient) -> None:
        upload(client, b"a,b,y\n1,2,0\n3,4\n", "y")
        assert client.get("/v1/datasets").json()["count"] == 5

    def test_missing_form_field_is_named(self, client: TestClient) -> None:
        response = client.post(
            "/v1/datasets", files={"file": ("d.csv", b"a,y\n1,2\n", "text/csv")}
        )
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"name", "target"}
