"""Reading specs and CSV tables, and writing predictions, without a server."""

from pathlib import Path

import pytest

from client import DescentError
from client.files import feature_rows, load_spec, predictions_csv, read_table

ROOT = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_examples_hold_the_documented_specs() -> None:
    # The examples are where users start; they must hold the specs the docs give.
    digits = load_spec(ROOT / "examples" / "digits.yaml")
    assert [
        (layer["units"], layer["activation"]) for layer in digits["network"]["layers"]
    ] == [
        (128, "relu"),
        (64, "relu"),
        (10, "softmax"),
    ]
    assert digits["loss"] == "cross_entropy"
    assert digits["optimizer"] == {"name": "adam", "learning_rate": 0.001}
    assert digits["training"] == {
        "epochs": 30,
        "batch_size": 32,
        "validation_split": 0.2,
        "seed": 0,
    }
    iris = load_spec(ROOT / "examples" / "iris.json")
    assert iris["network"]["layers"][-1] == {
        "type": "dense",
        "units": 3,
        "activation": "softmax",
    }


def test_a_spec_that_is_a_list_is_refused(tmp_path: Path) -> None:
    # A spec is a mapping; anything else would reach the API as a confusing 422.
    with pytest.raises(DescentError, match="must be a mapping"):
        load_spec(write(tmp_path / "spec.json", "[1, 2]"))


def test_values_come_in_the_model_order_with_line_numbers(tmp_path: Path) -> None:
    # Columns are matched by name, so a CSV in any column order predicts right.
    path = write(tmp_path / "rows.csv", "b,label,a\n2,x,1\n\n4,y,3\n")
    table = read_table(path)
    assert feature_rows(table, ["a", "b"], path) == [[1.0, 2.0], [3.0, 4.0]]
    bad = write(tmp_path / "bad.csv", "a,b\n1,2\n\n3,oops\n")
    with pytest.raises(DescentError, match=r"line 4, column 'b': 'oops'"):
        feature_rows(read_table(bad), ["a", "b"], bad)


def test_a_missing_feature_column_names_both_lists(tmp_path: Path) -> None:
    # The user sees which columns the model wants and which the file has.
    path = write(tmp_path / "rows.csv", "a,c\n1,2\n")
    with pytest.raises(DescentError, match=r"columns 'b' \(its columns: 'a', 'c'\)"):
        feature_rows(read_table(path), ["a", "b"], path)


def test_a_ragged_row_names_its_line(tmp_path: Path) -> None:
    # A short row would otherwise shift values into the wrong features.
    path = write(tmp_path / "rows.csv", "a,b\n1,2\n3\n")
    with pytest.raises(DescentError, match="line 3: 1 fields; the header has 2"):
        read_table(path)


def test_classification_output_adds_a_probability_per_class(tmp_path: Path) -> None:
    # Output columns: the input's, prediction, then probability_<class> in order.
    table = read_table(write(tmp_path / "rows.csv", "a,b\n1,2\n3,4\n"))
    text = predictions_csv(
        table, ["cat", "dog"], [[0.75, 0.25], [0.125, 0.875]], ["cat", "dog"]
    )
    assert text.splitlines() == [
        "a,b,prediction,probability_cat,probability_dog",
        "1,2,cat,0.75,0.25",
        "3,4,dog,0.125,0.875",
    ]


def test_regression_output_has_only_the_prediction(tmp_path: Path) -> None:
    # Regression has no classes, so no probability columns appear.
    table = read_table(write(tmp_path / "rows.csv", "a\n1\n"))
    assert predictions_csv(table, [151.5], None, None) == "a,prediction\n1,151.5\n"


def test_an_input_column_named_prediction_is_refused(tmp_path: Path) -> None:
    # Two columns of one name would make the output ambiguous to read back.
    table = read_table(write(tmp_path / "rows.csv", "a,prediction\n1,2\n"))
    with pytest.raises(DescentError, match="'prediction'"):
        predictions_csv(table, [0], None, None)
