"""Descent's Python client and the ``descent`` command built on it."""

from client.errors import DescentError
from client.http import Client
from client.resources import Dataset, EpochMetrics, Job, Model, Prediction

__all__ = [
    "Client",
    "Dataset",
    "DescentError",
    "EpochMetrics",
    "Job",
    "Model",
    "Prediction",
]
