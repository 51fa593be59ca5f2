import numpy as np
import pytest
from gradcheck import blobs, dense_spec

from core import FitConfig, fit


@pytest.mark.parametrize(
    "labels",
    [(1, 2), ("low", "high"), (0, 2, 5), (False, True), (-1.5, 2.5)],
)
def test_any_labels_train_and_come_back_as_given(labels):
    # C4: labels that are not 0..k-1 train and predictions return the originals.
    x, y = blobs(labels=labels)
    layers = ((8, "relu"), (len(labels), "softmax"))
    spec = dense_spec(
        *layers, optimizer={"learning_rate": 0.05}, training={"epochs": 30}
    )
    config = FitConfig.from_dict(spec)
    model = fit(x, y, config).model
    assert model.classes == sorted(labels)
    predictions = model.predict(x).predictions
    assert [type(p) for p in predictions] == [type(v) for v in np.asarray(y).tolist()]
    assert np.mean(np.array(predictions) == y) > 0.9


def test_binary_cross_entropy_probabilities_are_one_minus_p_and_p():
    # BCE: probabilities have two columns, [1 - p, p], in class order.
    x, y = blobs(labels=("no", "yes"))
    spec = dense_spec((8, "relu"), (1, "sigmoid"), loss="binary_cross_entropy")
    model = fit(x, y, FitConfig.from_dict(spec)).model
    prediction = model.predict(x)
    p = prediction.probabilities
    assert p.shape == (len(x), 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-15)
    assert prediction.predictions == ["yes" if q > 0.5 else "no" for q in p[:, 1]]
