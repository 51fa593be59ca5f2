"""Descent's backprop core: NumPy networks, trained and served without a service.

The core takes arrays and a validated configuration, returns a trained model
and its history, and reports each epoch to a callback. It never logs, never
prints and never unpickles.
"""

from core.config import FitConfig
from core.errors import ConfigError, DivergedError
from core.fit import FitResult, fit
from core.model import Model, Prediction
from core.serialization import dumps, loads
from core.training import EpochReport

__all__ = [
    "ConfigError",
    "DivergedError",
    "EpochReport",
    "FitConfig",
    "FitResult",
    "Model",
    "Prediction",
    "dumps",
    "fit",
    "loads",
]
