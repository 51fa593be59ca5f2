import io
import zipfile

import numpy as np
import pytest
from gradcheck import blobs, dense_spec, linear_regression_data

from core import FitConfig, dumps, fit, loads


@pytest.fixture(scope="module")
def classifier():
    x, y = blobs(labels=("a", "b", "c"))
    config = FitConfig.from_dict(
        dense_spec((8, "relu"), (3, "softmax"), training={"epochs": 3})
    )
    return fit(x, y, config).model, x


@pytest.fixture(scope="module")
def regressor():
    x, y = linear_regression_data()
    spec = dense_spec((8, "relu"), (1, "linear"), task="regression", loss="mse")
    return fit(x, y, FitConfig.from_dict({**spec, "training": {"epochs": 3}})).model, x


@pytest.mark.parametrize("which", ["classifier", "regressor"])
def test_round_trip_predicts_identical_values(which, request):
    # dumps then loads gives a model whose predictions are exactly the same.
    model, x = request.getfixturevalue(which)
    again = loads(dumps(model))
    before, after = model.predict(x), again.predict(x)
    assert before.predictions == after.predictions
    if before.probabilities is not None:
        assert before.probabilities.tobytes() == after.probabilities.tobytes()
    assert again.classes == model.classes and again.task == model.task


def test_archive_layout_is_the_documented_one(classifier):
    # Named arrays in (in, out) layout plus config and meta JSON documents.
    model, _ = classifier
    with np.load(io.BytesIO(dumps(model)), allow_pickle=False) as archive:
        assert archive["layers.0.weight"].shape == (3, 8)
        assert archive["layers.1.bias"].shape == (3,)
        assert archive["preprocessing.mean"].shape == (3,)
        assert archive["config"].dtype.kind == "U" and archive["meta"].ndim == 0


def test_regression_predictions_are_in_original_units(regressor):
    # Predicted values are floats on the target's own scale (around 100s).
    model, x = regressor
    predictions = model.predict(x[:5]).predictions
    assert all(type(p) is float for p in predictions)
    assert model.predict(x[:5]).probabilities is None


def test_loads_refuses_pickles_and_object_arrays():
    # Nothing is ever unpickled: a pickle or an object array is a ValueError.
    with pytest.raises(ValueError):
        # The bytes of a pickle (protocol 4, the int 1), written out by hand.
        loads(b"\x80\x04K\x01.")
    buffer = io.BytesIO()
    np.savez(buffer, config=np.array(["{}"], dtype=object), meta=np.array("{}"))
    with pytest.raises(ValueError):
        loads(buffer.getvalue())


@pytest.mark.parametrize("blob", [b"", b"not an archive", b"PK\x03\x04broken"])
def test_loads_refuses_garbage(blob):
    # Bytes that are not our archive raise ValueError, nothing else.
    with pytest.raises(ValueError):
        loads(blob)


def test_loads_refuses_mismatched_arrays(classifier):
    # A weight with the wrong shape is named in the error.
    model, _ = classifier
    source = zipfile.ZipFile(io.BytesIO(dumps(model)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.namelist():
            if item == "layers.0.weight.npy":
                member = io.BytesIO()
                np.save(member, np.zeros((2, 8), np.float32))
                target.writestr(item, member.getvalue())
            else:
                target.writestr(item, source.read(item))
    with pytest.raises(ValueError, match="layers.0.weight"):
        loads(buffer.getvalue())


def test_predict_refuses_wrong_width_and_non_finite_rows(classifier):
    # A wrong column count names the expected width; NaN or inf is refused.
    model, x = classifier
    with pytest.raises(ValueError, match="3 features"):
        model.predict(x[:, :2])
    bad = x[:2].copy()
    bad[1, 0] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        model.predict(bad)


def test_prediction_of_one_row_is_a_list_of_labels(classifier):
    # One row in, one original label out, probabilities summing to 1.
    model, x = classifier
    prediction = model.predict(x[:1])
    assert prediction.predictions in (["a"], ["b"], ["c"])
    assert prediction.probabilities.shape == (1, 3)
    assert abs(prediction.probabilities.sum() - 1.0) < 1e-12
