"""Durations as people write them in configs and on the command line: `90s`, `15m`, `2h`.

>>> parse_duration("15m")
900.0
>>> parse_duration("1h30m")
5400.0
>>> format_duration(5400)
'90m'
"""

from __future__ import annotations

import math
import re

_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str | int | float) -> float:
    """Seconds in a duration like `90s`, `15m`, `2h`, `1h30m` or `500ms`; a bare number is
    seconds. Raise ValueError with the reason otherwise."""
    if isinstance(text, bool):
        raise ValueError("a duration must be like 90s, 15m or 2h")
    if isinstance(text, int | float):
        if not math.isfinite(text):
            raise ValueError("a duration must be a finite number of seconds")
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return float(text)
    s = text.strip().lower()
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", s):
        return float(s)
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError(f"{text!r} is not a duration like 90s, 15m or 2h")
    return total


def format_duration(seconds: float) -> str:
    """The shortest of `90d`, `2h`, `15m`, `90s` that says `seconds` exactly: how every
    program writes a duration for people (and `parse_duration` reads it back)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
