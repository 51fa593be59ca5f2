"""The error every reader raises for a file it cannot use."""


class TableError(ValueError):
    """A file that cannot be read as a dataset; the message says where and why.

    ``field`` is the request field to blame (``file``, ``target``, ...) and
    ``status`` the HTTP status that fits (422, or 413 for a size limit).
    """

    def __init__(self, message: str, field: str = "file", status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
