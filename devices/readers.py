"""Card readers behind one small interface, `CardReader`: `read()` gives canonical UIDs.

The real drivers import their libraries (evdev, pyserial) only when they open a device,
so tests and the demo run without them. Their decoding is split into small classes fed
plain events and bytes (`WedgeDecoder`, `Em4100Framer`) that tests drive directly.

>>> reader = FakeReader()
>>> reader.present("04:a1:b2:c3")
>>> reader.read(timeout=0)
'04A1B2C3'
"""

from __future__ import annotations

import contextlib
import logging
import queue
import select
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from protocol.cards import CardError, normalise_uid, parse_em4100_frame, uid_from_decimal

if TYPE_CHECKING:
    from devices.config import ReaderConfig

log = logging.getLogger(__name__)

KeyEvent = tuple[str, int]
"""An evdev key event as (key name, value): value 1 is down, 0 up, 2 autorepeat."""


class CardReader(Protocol):
    """What the door controller needs of a reader."""

    def read(self, timeout: float | None) -> str | None:
        """The next card's canonical UID, or None if none came within `timeout` seconds
        (None waits for ever)."""
        ...

    def close(self) -> None:
        """Release the device; a `read` blocked in another thread returns None soon."""
        ...


class FakeReader:
    """A reader that reports the cards a test or the demo presents to it; thread-safe.

    >>> reader = FakeReader()
    >>> reader.present("04a1b2c3")
    >>> reader.read(timeout=1.0), reader.read(timeout=0)
    ('04A1B2C3', None)
    """

    tech: str | None = None

    def __init__(self) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._closed = False

    def present(self, uid: str) -> None:
        """Queue a card as if it were tapped; raise CardError if `uid` is not a UID."""
        self._queue.put(normalise_uid(uid))

    def read(self, timeout: float | None) -> str | None:
        if self._closed:
            return None
        try:
            if timeout is not None and timeout <= 0:
                return self._queue.get_nowait()
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)  # wakes a reader blocked in get()


# -- USB keyboard-wedge readers ---------------------------------------------------------

_KEY_CHARS = {f"KEY_{c}": c for c in "0123456789ABCDEF"} | {f"KEY_KP{d}": d for d in "0123456789"}
_ENTER_KEYS = {"KEY_ENTER", "KEY_KPENTER"}
_MAX_LINE = 40  # longer than any UID a reader types; garbage past this is dropped


class WedgeDecoder:
    """Turns the key events of a keyboard-wedge reader into UIDs.

    The reader types the UID as hex or decimal digits and then ENTER; shift and other
    keys are ignored, so upper- and lower-case hex read the same.

    >>> d = WedgeDecoder(format="dec", nbytes=4, reverse=True)
    >>> [d.feed(k, 1) for k in ("KEY_3", "KEY_2", "KEY_8")][-1] is None
    True
    """

    def __init__(self, *, format: str = "hex", nbytes: int = 4, reverse: bool = False) -> None:
        if format not in ("hex", "dec"):
            raise ValueError(f"format must be hex or dec, got {format!r}")
        self.format, self.nbytes, self.reverse = format, nbytes, reverse
        self._line: list[str] = []

    def feed(self, key: str, value: int) -> str | None:
        """Take one key event; return a canonical UID when ENTER ends a valid one."""
        if value != 1:  # only key-down; ignore key-up and autorepeat
            return None
        if key in _ENTER_KEYS:
            text, self._line = "".join(self._line), []
            return self._uid(text) if text else None
        char = _KEY_CHARS.get(key)
        if char is not None and len(self._line) < _MAX_LINE:
            self._line.append(char)
        return None

    def _uid(self, text: str) -> str | None:
        try:
            if self.format == "dec":
                return uid_from_decimal(text, nbytes=self.nbytes, reverse=self.reverse)
            return normalise_uid(text, reverse=self.reverse)
        except CardError as exc:
            log.warning("wedge reader typed %r, not a card: %s", text, exc)
            return None


EventSource = Callable[[float | None], Iterable[KeyEvent]]
"""Waits up to the given seconds (None: for ever) and returns the key events that came."""


class WedgeReader:
    """A USB keyboard-wedge reader read through evdev, grabbed so its digits never reach a
    console or another program.

    >>> reader = WedgeReader("/dev/input/by-id/usb-rfid-event-kbd", format="dec")  # doctest: +SKIP
    >>> reader.read(timeout=1.0)  # doctest: +SKIP
    '04A1B2C3'

    `source` replaces the evdev device (tests feed key events through it).
    """

    tech: str | None = None  # a wedge reader does not say what kind of card it read

    def __init__(
        self,
        path: str,
        *,
        format: str = "hex",
        nbytes: int = 4,
        reverse: bool = False,
        source: EventSource | None = None,
    ) -> None:
        self.path = path
        self._decoder = WedgeDecoder(format=format, nbytes=nbytes, reverse=reverse)
        self._device: Any = None
        self._source = source if source is not None else self._open()
        self._pending: list[str] = []

    def _open(self) -> EventSource:
        import evdev  # only on a real Pi

        device = evdev.InputDevice(self.path)
        device.grab()
        self._device = device

        def events(timeout: float | None) -> list[KeyEvent]:
            ready, _, _ = select.select([device.fd], [], [], timeout)
            if not ready:
                return []
            out: list[KeyEvent] = []
            for event in device.read():
                if event.type == evdev.ecodes.EV_KEY:
                    name: Any = evdev.ecodes.KEY.get(event.code, "")
                    # Some codes have several names (a list); the first is the usual one.
                    out.append((name[0] if isinstance(name, list) else name, event.value))
            return out

        return events

    def read(self, timeout: float | None) -> str | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._pending:
                return self._pending.pop(0)
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            for key, value in self._source(remaining):
                uid = self._decoder.feed(key, value)
                if uid is not None:
                    self._pending.append(uid)
            if not self._pending and remaining is not None and remaining <= 0:
                return None

    def close(self) -> None:
        if self._device is not None:
            with contextlib.suppress(OSError):  # unplugged: nothing left to release
                self._device.ungrab()
            self._device.close()
            self._device = None


# -- EM4100 serial readers (RDM6300 and alike) ------------------------------------------

STX, ETX = 0x02, 0x03


class Em4100Framer:
    """Cuts a serial byte stream into EM4100 frames (STX, 10 + 2 hex digits, ETX) and
    returns the UIDs of those whose checksum holds; resynchronises on the next STX after
    noise. CR/LF inside a frame (some readers send them) is dropped.

    >>> Em4100Framer().feed(b"\\x020102030405" + b"01" + b"\\x03")
    ['0102030405']
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[str]:
        """Take the bytes that came; return the UIDs of the frames they completed."""
        self._buf += data
        uids: list[str] = []
        while (end := self._buf.find(ETX)) >= 0:
            # The last STX before the ETX: a frame cut short by noise is skipped whole.
            start = self._buf.rfind(STX, 0, end)
            frame = bytes(self._buf[start : end + 1]) if start >= 0 else b""
            del self._buf[: end + 1]
            if frame:
                self._parse(frame, uids)
        start = self._buf.rfind(STX)
        del self._buf[: start if start >= 0 else len(self._buf)]
        if len(self._buf) > 32:  # an STX and no ETX for far longer than a frame: noise
            self._buf.clear()
        return uids

    @staticmethod
    def _parse(frame: bytes, uids: list[str]) -> None:
        frame = frame.replace(b"\r", b"").replace(b"\n", b"")
        try:
            uids.append(parse_em4100_frame(frame))
        except CardError as exc:
            log.debug("dropping serial frame %r: %s", frame, exc)


class UartReader:
    """An RDM6300-style EM4100 reader on a serial port (pyserial).

    Such readers repeat the frame for as long as the card is held; the same card seen
    again within `repeat_window` seconds of its last frame is reported only once.

    >>> reader = UartReader("/dev/serial0")  # doctest: +SKIP
    >>> reader.read(timeout=1.0)  # doctest: +SKIP
    '0102030405'

    `port` replaces the serial port (anything with pyserial's `read`, `in_waiting` and a
    settable `timeout`); `clock` replaces time.monotonic for the repeat window.
    """

    tech = "em4100"

    def __init__(
        self,
        path: str,
        *,
        baudrate: int = 9600,
        port: Any = None,
        clock: Callable[[], float] = time.monotonic,
        repeat_window: float = 1.0,
    ) -> None:
        self.path = path
        self._port = port if port is not None else self._open(path, baudrate)
        self._clock = clock
        self._window = repeat_window
        self._framer = Em4100Framer()
        self._pending: list[str] = []
        self._last: tuple[str, float] | None = None

    @staticmethod
    def _open(path: str, baudrate: int) -> Any:
        import serial  # only on a real Pi

        return serial.Serial(path, baudrate=baudrate, timeout=0.1)

    def read(self, timeout: float | None) -> str | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._pending:
                return self._pending.pop(0)
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            # Short slices, so a held card's frames keep the repeat window fresh.
            self._port.timeout = 0.1 if remaining is None else min(remaining, 0.1)
            data = self._port.read(1)
            if data:
                data += self._port.read(self._port.in_waiting or 0)
                for uid in self._framer.feed(data):
                    self._note(uid)
            elif remaining is not None and remaining <= 0:
                return None

    def _note(self, uid: str) -> None:
        now = self._clock()
        last = self._last
        self._last = (uid, now)
        if last is None or last[0] != uid or now - last[1] >= self._window:
            self._pending.append(uid)

    def close(self) -> None:
        self._port.close()


def open_reader(config: ReaderConfig) -> CardReader:
    """The reader a door's `[reader]` table describes."""
    if config.type == "wedge":
        assert config.path is not None  # the config requires it
        return WedgeReader(
            config.path, format=config.format, nbytes=config.nbytes, reverse=config.reverse
        )
    if config.type == "uart":
        assert config.path is not None
        return UartReader(config.path, baudrate=config.baudrate)
    return FakeReader()
