"""Errors the core raises to its callers.

Both carry the data a caller needs to report them without parsing the message:
``ConfigError.field`` is the dotted path of the offending setting and
``DivergedError.epoch`` the 1-based epoch in which training broke down.
"""


class ConfigError(ValueError):
    """A training configuration names a value the core cannot use.

    Parameters
    ----------
    field : str
        Dotted path of the setting, e.g. ``"network.layers[2].units"``.
    message : str
        What is wrong and how to fix it; it starts with the field path.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class DivergedError(RuntimeError):
    """Training produced a non-finite loss or weight and was stopped.

    Parameters
    ----------
    epoch : int
        The 1-based epoch in which the non-finite value appeared.
    what : str
        The value that went non-finite, e.g. ``"the loss became nan"``.
    """

    def __init__(self, epoch: int, what: str) -> None:
        message = (
            f"training diverged at epoch {epoch}: {what}; "
            "lower the learning rate or scale the inputs"
        )
        super().__init__(message)
        self.epoch = epoch
        self.message = message
