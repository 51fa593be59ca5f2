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


class DataError(ValueError):
    """A value in the data cannot be used as the preprocessing was set up.

    Parameters
    ----------
    column : str
        The column's name.
    message : str
        What is wrong, with the row and value where known, and the fix.
    row : int, optional
        The 0-based row.
    """

    def __init__(self, column: str, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.row = row
        self.message = message
