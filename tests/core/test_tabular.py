"""TableEncoder and fit on tables: imputation from training rows only, one-hot
columns in sorted order, the unseen-category and missing-value policies, and
models that predict from records after a round trip through npz."""

import numpy as np
import pytest

from core import FitConfig, dumps, fit, loads
from core.errors import DataError
from core.table import Column, Table
from core.tabular import TableEncoder


def table(numbers: list[float | None], colours: list[str | None]) -> Table:
    x = np.array([np.nan if v is None else v for v in numbers])
    text = np.array(["" if c is None else c for c in colours])
    return Table(
        (
            Column("x", "numeric", x, np.isnan(x)),
            Column(
                "colour", "categorical", text, np.array([c is None for c in colours])
            ),
        )
    )


def test_standard_scaling_and_one_hot_by_hand() -> None:
    # x: mean 2, std sqrt(2/3); colours sorted: blue, red.
    encoder = TableEncoder.fit(table([1.0, 2.0, 3.0], ["red", "blue", "red"]))
    out = encoder.transform(table([2.0, 4.0], ["blue", "red"]))
    scale = np.sqrt(2 / 3)
    np.testing.assert_allclose(out, [[0.0, 1.0, 0.0], [2 / scale, 0.0, 1.0]])
    assert encoder.output_names == ["x", "colour=blue", "colour=red"]


def test_minmax_scaling() -> None:
    encoder = TableEncoder.fit(table([2.0, 4.0, 6.0], ["a", "a", "b"]), "minmax")
    np.testing.assert_allclose(encoder.transform(table([4.0], ["b"]))[:, 0], [0.5])


def test_imputation_values_come_from_the_training_rows() -> None:
    train = table([1.0, None, 5.0, 5.0], ["red", None, "red", "blue"])
    for policy, fill in (("mean", 11 / 3), ("median", 5.0), ("most_frequent", 5.0)):
        encoder = TableEncoder.fit(train, "none", policy)
        out = encoder.transform(table([None], [None]))
        np.testing.assert_allclose(out, [[fill, 0.0, 1.0]])


def test_reject_policy_names_row_and_column() -> None:
    encoder = TableEncoder.fit(table([1.0, 2.0], ["a", "b"]))
    with pytest.raises(DataError) as caught:
        encoder.transform(table([1.0, None], ["a", "a"]))
    assert caught.value.column == "x" and caught.value.row == 1


def test_unseen_category_errors_or_is_all_zeros() -> None:
    train = table([1.0, 2.0], ["red", "blue"])
    with pytest.raises(DataError, match="'green' was not seen in training"):
        TableEncoder.fit(train).transform(table([1.0], ["green"]))
    out = TableEncoder.fit(train, unseen="zeros").transform(table([1.0], ["green"]))
    np.testing.assert_array_equal(out[0, 1:], [0.0, 0.0])


def test_round_trip_through_json() -> None:
    encoder = TableEncoder.fit(
        table([1.0, None, 3.0], ["a", "b", None]), missing="mean"
    )
    again = TableEncoder.from_dict(encoder.to_dict())
    probe = table([None, 2.0], ["b", None])
    np.testing.assert_array_equal(again.transform(probe), encoder.transform(probe))


SPEC = {
    "task": "classification",
    "network": {
        "layers": [
            {"units": 8, "activation": "relu"},
            {"units": 2, "activation": "softmax"},
        ]
    },
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "learning_rate": 0.05},
    "training": {"epochs": 30, "batch_size": 8, "validation_split": 0.0},
}


def colour_table(rows: int = 60) -> tuple[Table, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=rows)
    colours = np.array(["red", "blue", "green"] * (rows // 3))
    y = np.where((colours == "red") | (x > 1), "hot", "cold")
    missing = np.zeros(rows, dtype=bool)
    missing[[5, 9]] = True
    x[missing] = np.nan
    columns = (
        Column("x", "numeric", x, missing),
        Column("colour", "categorical", colours, np.zeros(rows, dtype=bool)),
    )
    return Table(columns), y


def test_fit_on_a_table_rejects_missing_by_default() -> None:
    features, y = colour_table()
    with pytest.raises(DataError, match="data row 6, column 'x': the value is missing"):
        fit(features, y, FitConfig.from_dict(SPEC))


def test_fit_on_a_table_then_predict_records_after_npz() -> None:
    features, y = colour_table()
    config = FitConfig.from_dict({**SPEC, "preprocessing": {"missing": "mean"}})
    model = loads(dumps(fit(features, y, config).model))
    assert model.input_names == ["x", "colour"]
    records = [{"colour": "red", "x": -1.0}, {"x": -1.0, "colour": "blue"}]
    assert model.predict_records(records).predictions == ["hot", "cold"]


def test_drop_policy_trains_on_complete_rows_only() -> None:
    features, y = colour_table()
    config = FitConfig.from_dict({**SPEC, "preprocessing": {"missing": "drop"}})
    model = fit(features, y, config).model
    with pytest.raises(DataError, match="missing-value policy is 'drop'"):
        model.predict_records([{"x": None, "colour": "red"}])


def test_a_category_only_in_held_out_rows_does_not_fail_training() -> None:
    # Found by a user: "orange" in one row fell in the validation split.
    features, y = colour_table()
    colours = features.columns[1].values.copy()
    colours[-1] = "orange"
    columns = (
        features.columns[0],
        Column("colour", "categorical", colours, features.columns[1].missing),
    )
    spec = {**SPEC, "preprocessing": {"missing": "mean"}}
    spec["training"] = {**SPEC["training"], "validation_split": 0.5}
    for seed in range(4):
        spec["training"]["seed"] = seed
        fit(Table(columns), y, FitConfig.from_dict(spec))
