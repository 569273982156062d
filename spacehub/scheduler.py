"""Scripts run side by side on one thread: the demo's visitors (`spacehub.traffic`).

A *script* is a generator that does a step and yields how many seconds to wait before the
next one; what it returns is what it came to. The scheduler keeps a heap of (time, script)
and steps each one when it is due, so hundreds of visitors need one thread and no locks.

    scheduler = Scheduler()
    scheduler.spawn(script)          # due now; spawn(script, delay=5.0) in five seconds
    scheduler.start()                # one daemon thread
    scheduler.stop()                 # every script is closed (its `finally` runs)

Tests step the heap themselves with `run_due` on a clock they move, or run one script to
its end with `perform`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Generator
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Script = Generator[float, None, T]
"""A script's doings: yields seconds to wait (real time), returns what it came to."""


class Scheduler:
    """Scripts due at times of `clock` (monotonic seconds), stepped on one thread.

    A script that raises is counted in `failures`, logged, and dropped; the others go on."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, name: str = "scripts"):
        self.clock = clock
        self.name = name
        self.failures = 0
        self._heap: list[tuple[float, int, Script[Any]]] = []
        self._order = itertools.count()  # ties go in the order spawned, never compare scripts
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Step the scripts on a daemon thread until `stop`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop promptly; every script is closed, so each one's `finally` runs."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        else:
            self._close_all()

    def spawn(self, script: Script[Any], delay: float = 0.0) -> None:
        """Run `script` from `delay` seconds from now."""
        heapq.heappush(self._heap, (self.clock() + delay, next(self._order), script))

    def run_due(self) -> float:
        """Step every script that is due; return the seconds until the next one is."""
        while self._heap and not self._stop.is_set():
            at, _, script = self._heap[0]
            if at > self.clock():
                return at - self.clock()
            heapq.heappop(self._heap)
            try:
                delay = next(script)
            except StopIteration:
                continue
            except Exception:
                self.failures += 1
                log.exception("%s: a script failed", self.name)
                continue
            self.spawn(script, max(0.0, delay))
        return 1.0

    def perform(self, script: Script[T]) -> T | None:
        """Run one script to its end on this thread, waiting in real time; its result, or
        None if `stop` came first. For tests and tools; not alongside `start`."""
        while True:
            try:
                delay = next(script)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if self._stop.wait(max(0.0, delay)):
                script.close()
                return None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._stop.wait(min(self.run_due(), 0.5))
        finally:
            self._close_all()

    def _close_all(self) -> None:
        while self._heap:
            _, _, script = heapq.heappop(self._heap)
            try:
                script.close()
            except Exception:
                log.exception("%s: closing a script failed", self.name)
