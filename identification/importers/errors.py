"""The one exception the import layer raises for input it cannot read."""

from __future__ import annotations


class ImportFormatError(ValueError):
    """The file is not a bibliographic export we can read (or is empty, binary, truncated).

    ``line`` is the 1-based line (or CSV row, or XML line) the problem was found at, when known;
    the message already names it, so callers can show ``str(error)`` as it is.
    """

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)
