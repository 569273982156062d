"""Interval arithmetic over half-open `[start, end)` pairs of aware UTC datetimes.

>>> from datetime import UTC, datetime
>>> t = lambda h: datetime(2026, 3, 2, h, tzinfo=UTC)
>>> union([(t(9), t(11)), (t(10), t(12)), (t(14), t(15))]) == [(t(9), t(12)), (t(14), t(15))]
True
>>> hours(intersect([(t(9), t(12))], [(t(11), t(15))]))
1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

Interval = tuple[datetime, datetime]


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint intervals covering the same time; empty ones dropped, touching
    ones merged."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    """The time covered by both `a` and `b`, as sorted disjoint intervals."""
    left, right = union(a), union(b)
    out: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of `intervals` inside `[start, end)`, in their order; empty ones dropped."""
    out: list[Interval] = []
    for lo, hi in intervals:
        lo, hi = max(lo, start), min(hi, end)
        if lo < hi:
            out.append((lo, hi))
    return out


def hours(intervals: Iterable[Interval]) -> float:
    """The summed length in hours; a plain sum, so `union` first if they may overlap."""
    return sum((end - start).total_seconds() for start, end in intervals) / 3600
