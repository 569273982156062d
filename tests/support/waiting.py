"""Waiting for another thread: poll a condition, never sleep for a fixed time.

For state that has no event to wait on (a broker's delivery, a background thread's commit).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T],
    timeout: float = 5.0,
    what: str = "condition",
    *,
    every: float = 0.02,
) -> T:
    """Poll `condition` until it returns something true, and return that; AssertionError
    naming `what` when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(every)


def eventually(
    condition: Callable[[], object], timeout: float = 5.0, *, every: float = 0.01
) -> bool:
    """Whether `condition` holds within `timeout` seconds, for a test that asserts it itself."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())
