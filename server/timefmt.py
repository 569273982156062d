"""Times at the HTTP edge: requests may carry any offset, responses are UTC with `Z`.

>>> from pydantic import TypeAdapter
>>> TypeAdapter(RequestTime).validate_python("2026-03-01T10:00:00+01:00")
datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.timezone.utc)
>>> format_utc(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
'2026-03-01T09:00:00Z'
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, PlainSerializer


def format_utc(value: datetime) -> str:
    """RFC 3339 in UTC with `Z`: to the second, with microseconds only when there are some."""
    value = value.astimezone(UTC).replace(tzinfo=None)
    spec = "microseconds" if value.microsecond else "seconds"
    return value.isoformat(timespec=spec) + "Z"


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # e.g. 9999-12-31T23:00:00-05:00, which is past the last representable instant
        raise ValueError("time is out of range") from None


# A request time: RFC 3339 with an offset (naive times are refused), converted to UTC.
RequestTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]

# A response time: written as UTC with `Z`.
ResponseTime = Annotated[datetime, PlainSerializer(format_utc, return_type=str)]
