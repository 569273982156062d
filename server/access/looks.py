"""Taps looked at and not yet recorded: the door path answers a tap as it arrives
(AccessService.look) and records it later, on another thread (AccessService.handle_tap).

    looks = Looks()
    looks.take(key, lambda: service._look(...))   # unless this tap is under way already
    looks.get(key)                                # what handle_tap answers from
    looks.forget(key)                             # once recorded
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from server.access.fates import FirstLook

LOOKS_MAX = 10_000  # taps under way at most (one never recorded: the process stopping)

Key = tuple[str, str]  # (device, tap id)


class Looks:
    """First looks by (device, tap id), from the look until the tap is recorded."""

    def __init__(self) -> None:
        self._looks: OrderedDict[Key, FirstLook | None] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: Key, look: Callable[[], FirstLook]) -> None:
        """Take a first look at a tap, unless it is under way already (a copy)."""
        with self._lock:
            if key in self._looks:
                return
            self._looks[key] = None
            while len(self._looks) > LOOKS_MAX:
                self._looks.popitem(last=False)
        try:
            first = look()
        except BaseException:
            self.forget(key)
            raise
        with self._lock:
            self._looks[key] = first

    def get(self, key: Key) -> FirstLook | None:
        """The look taken at this tap, if one was."""
        with self._lock:
            return self._looks.get(key)

    def forget(self, key: Key) -> None:
        with self._lock:
            self._looks.pop(key, None)
