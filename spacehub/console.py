"""What the demo hears from its terminal: Ctrl-C (SIGINT), SIGTERM and SIGHUP ask it to
stop; SIGUSR1, or Enter typed in its terminal, asks it to show its banner again.

The signal handlers only note what was asked; the main thread acts on it in `serve`, so a
stop unwinds in order (devices say offline and flush their outboxes, then the broker
stops) and nothing is printed from inside a handler. A second stop signal while stopping
raises KeyboardInterrupt, for whoever cannot wait.

    with Console() as console:
        ...                                       # start everything
        console.serve(show=lambda: print(banner))  # until Ctrl-C
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SHOW_SIGNAL = signal.SIGUSR1
POLL = 0.05  # seconds between two looks at what was asked


class Console:
    """The demo's signal handlers (installed on entering, restored on leaving) and its
    Enter key."""

    def __init__(self, stdin: Any = None) -> None:
        self.stop_signal: int | None = None  # the signal that asked to stop
        self.stop_asked_at: float | None = None  # time.monotonic() when it came
        self._show = False
        self._stdin = sys.stdin if stdin is None else stdin
        self._saved: dict[int, Any] = {}
        self._done = threading.Event()

    def __enter__(self) -> Console:
        for signum in (*STOP_SIGNALS, SHOW_SIGNAL):
            self._saved[signum] = signal.signal(signum, self._handle)
        if self.keys:
            # A background job that reads its terminal is stopped (SIGTTIN); ignored, the
            # read fails instead, and the demo goes on running in the background.
            self._saved[signal.SIGTTIN] = signal.signal(signal.SIGTTIN, signal.SIG_IGN)
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)
        self._saved.clear()

    @property
    def keys(self) -> bool:
        """Whether Enter in the terminal shows the banner (stdin is a terminal)."""
        try:
            return bool(self._stdin.isatty())
        except (AttributeError, ValueError):
            return False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if signum == SHOW_SIGNAL:
            self._show = True
        elif self.stop_signal is None:
            self.stop_signal, self.stop_asked_at = signum, time.monotonic()
        else:
            raise KeyboardInterrupt  # asked twice: stop waiting for the clean stop

    def serve(self, show: Callable[[], None]) -> None:
        """Wait until a stop is asked (at once if it already was); call `show` whenever the
        banner is asked for meanwhile."""
        if self.keys:
            threading.Thread(target=self._read_keys, name="demo-keys", daemon=True).start()
        while self.stop_signal is None:
            if self._show:
                self._show = False
                show()
            time.sleep(POLL)

    def ask_to_show(self) -> None:
        """Show the banner at the next look (what SIGUSR1 and Enter do)."""
        self._show = True

    def _read_keys(self) -> None:
        # The raw descriptor, not sys.stdin: a daemon thread blocked in a buffered read
        # holds the buffer's lock, which the interpreter needs when it exits.
        fd = self._stdin.fileno()
        while not self._done.is_set():
            try:
                ready, _, _ = select.select([fd], [], [], 0.5)
                if not ready:
                    continue
                typed = os.read(fd, 1024)
            except OSError:  # in the background (EIO), or the terminal is gone
                self._done.wait(1.0)
                continue
            if not typed:  # end of input: no more keys to wait for
                return
            if b"\n" in typed or b"\r" in typed:
                self.ask_to_show()
