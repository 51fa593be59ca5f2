import numpy as np

from core.preprocessing import LabelEncoder, Standardizer, split_indices


def test_label_encoder_sorts_classes_as_plain_python_values():
    # Classes are sorted and JSON-ready (str, int, float, bool), not NumPy scalars.
    for labels, classes in [
        (["low", "high", "low"], ["high", "low"]),
        (np.array([2, 1, 2]), [1, 2]),
        (np.array([5, 0, 2]), [0, 2, 5]),
        (np.array([True, False]), [False, True]),
        (np.array([0.5, -1.0]), [-1.0, 0.5]),
    ]:
        encoder, codes = LabelEncoder.fit(labels)
        assert encoder.classes == classes
        assert [type(c) for c in encoder.classes] == [type(c) for c in classes]
        assert encoder.decode(codes) == list(np.asarray(labels).tolist())


def test_stratified_split_keeps_class_shares():
    # Each class is held out in proportion; the splits partition the rows.
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    rng = np.random.default_rng(0)
    train, val, test = split_indices(100, 0.2, 0.1, rng, labels)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(100))
    assert np.bincount(labels[val]).tolist() == [10, 6, 4]
    assert np.bincount(labels[test]).tolist() == [5, 3, 2]


def test_split_is_a_function_of_the_seed():
    # The same seed gives the same split; another seed another one.
    labels = np.repeat([0, 1], 50)
    a = split_indices(100, 0.3, 0.0, np.random.default_rng(7), labels)
    b = split_indices(100, 0.3, 0.0, np.random.default_rng(7), labels)
    c = split_indices(100, 0.3, 0.0, np.random.default_rng(8), labels)
    assert np.array_equal(a[1], b[1]) and not np.array_equal(a[1], c[1])


def test_standardizer_scales_a_constant_column_by_one():
    # A zero standard deviation becomes a scale of 1, not a division by zero.
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    standardizer = Standardizer.fit(x)
    assert standardizer.scale.tolist() == [1.0, 1.0]
    assert standardizer.transform(x).tolist() == [[-1.0, 0.0], [1.0, 0.0]]
