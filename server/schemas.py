"""The vocabulary of the HTTP API's bodies (see docs/api.md), shared by every area's schemas.

Request bodies refuse unknown fields (422), so a misspelt field is caught rather than
silently ignored. Text is stripped, must not be empty, and is limited as docs/api.md says.
Times in requests carry an offset; responses write them in UTC with `Z`
(server.timefmt). Each domain keeps its own bodies beside it (`server.people.schemas`,
`server.bookings.schemas`, ...)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

MAX_ID = 2**31 - 1  # ids fit a signed 32-bit column (PostgreSQL's `integer`)


def whole_number(text: str, *, least: int = 1, most: int = MAX_ID) -> int | None:
    """A form field's whole number from `least` to `most`, or None: the digits 0-9 only
    (`str.isdigit()` is true of "²" too, which `int()` refuses)."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if least <= value <= most else None


_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def _printable(value: str) -> str:
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError("must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("is not an e-mail address")
    return value


def _limited(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


Name = Annotated[str, _limited(200), AfterValidator(_printable)]
Label = Annotated[str, _limited(100), AfterValidator(_printable)]
Email = Annotated[str, _limited(254), AfterValidator(_printable), AfterValidator(_email)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Body(BaseModel):
    """Base of request bodies: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")
