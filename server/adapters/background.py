"""A service of the server that runs on a daemon thread of its own (the scheduler, the
mail sender): started once, and stopped by its `_stop` event, waiting for the pass under
way to finish.

    class Sender(Background):
        THREAD = "mail-sender"

        def _run(self) -> None:
            while not self._stop.wait(2.0):
                ...
"""

from __future__ import annotations

import threading


class Background:
    """Start and stop of a service's one thread, which runs `_run` until `_stop` is set."""

    THREAD = "background"  # the thread's name, for logs and stack dumps

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.THREAD, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait (up to `timeout` seconds) for the pass under way."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError
