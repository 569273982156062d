"""Card readers fed key events and serial bytes instead of hardware."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import pytest

from devices.config import ReaderConfig
from devices.readers import (
    Em4100Framer,
    FakeReader,
    KeyEvent,
    UartReader,
    WedgeDecoder,
    WedgeReader,
    open_reader,
)
from protocol.cards import CardError

# -- keyboard wedge -------------------------------------------------------------------------


def typed(text: str, enter: str = "KEY_ENTER") -> list[KeyEvent]:
    """The key events a wedge reader sends for `text`: down and up per key, with shift
    around letters as a real keyboard would."""
    events: list[KeyEvent] = []
    for char in text:
        key = f"KEY_{char.upper()}"
        if char.isalpha():
            events.append(("KEY_LEFTSHIFT", 1))
        events += [(key, 1), (key, 0)]
        if char.isalpha():
            events.append(("KEY_LEFTSHIFT", 0))
    return events + [(enter, 1), (enter, 0)]


def feed(decoder: WedgeDecoder, events: Iterable[KeyEvent]) -> list[str]:
    return [uid for key, value in events if (uid := decoder.feed(key, value)) is not None]


def test_wedge_hex_reads_the_uid_typed_before_enter():
    assert feed(WedgeDecoder(format="hex"), typed("04a1b2c3")) == ["04A1B2C3"]


def test_wedge_hex_reversed():
    assert feed(WedgeDecoder(format="hex", reverse=True), typed("C3B2A104")) == ["04A1B2C3"]


def test_wedge_decimal_with_byte_order():
    # 3283263748 is 0xC3B2A104: a reader giving the UID least significant byte first.
    assert feed(WedgeDecoder(format="dec", nbytes=4, reverse=True), typed("3283263748")) == [
        "04A1B2C3"
    ]
    assert feed(WedgeDecoder(format="dec", nbytes=4), typed("3283263748")) == ["C3B2A104"]


def test_wedge_decimal_pads_to_the_configured_bytes():
    assert feed(WedgeDecoder(format="dec", nbytes=4), typed("0000000001")) == ["00000001"]


def test_wedge_keypad_digits_and_keypad_enter():
    events = [(f"KEY_KP{d}", 1) for d in "3283263748"] + [("KEY_KPENTER", 1)]
    assert feed(WedgeDecoder(format="dec", reverse=True), events) == ["04A1B2C3"]


def test_wedge_ignores_autorepeat_and_key_up():
    events = [("KEY_0", 1), ("KEY_0", 2), ("KEY_0", 0)] + typed("4A1B2C3")
    assert feed(WedgeDecoder(), events) == ["04A1B2C3"]


def test_wedge_drops_a_line_that_is_not_a_uid_and_reads_the_next():
    decoder = WedgeDecoder(format="dec", nbytes=4)
    events = typed("12a") + typed("99999999999") + typed("3283263748")
    assert feed(decoder, events) == ["C3B2A104"]
    assert feed(WedgeDecoder(format="hex"), typed("04A1B2C") + typed("04A1B2C3")) == ["04A1B2C3"]


def test_wedge_decoder_refuses_an_unknown_format():
    with pytest.raises(ValueError):
        WedgeDecoder(format="octal")


class ScriptedEvents:
    """An event source that gives one prepared batch per call, then nothing."""

    def __init__(self, *batches: list[KeyEvent]) -> None:
        self.batches = list(batches)
        self.timeouts: list[float | None] = []

    def __call__(self, timeout: float | None) -> list[KeyEvent]:
        self.timeouts.append(timeout)
        return self.batches.pop(0) if self.batches else []


def test_wedge_reader_keeps_a_partial_uid_across_reads():
    events = typed("04A1B2C3")
    source = ScriptedEvents(events[:5], events[5:] + typed("0102030405"))
    reader = WedgeReader("/dev/input/event-test", source=source)
    assert reader.read(timeout=0) is None
    assert reader.read(timeout=0) == "04A1B2C3"
    assert reader.read(timeout=0) == "0102030405"  # a second card in the same batch
    assert reader.read(timeout=0) is None
    reader.close()


# -- EM4100 over a UART -----------------------------------------------------------------------


def frame(uid: str, checksum: int | None = None) -> bytes:
    data = bytes.fromhex(uid)
    x = 0
    for b in data:
        x ^= b
    check = x if checksum is None else checksum
    return b"\x02" + uid.upper().encode() + f"{check:02X}".encode() + b"\x03"


def test_framer_reads_a_frame():
    assert Em4100Framer().feed(frame("0a1b2c3d4e")) == ["0A1B2C3D4E"]


def test_framer_drops_a_bad_checksum():
    assert Em4100Framer().feed(frame("0a1b2c3d4e", checksum=0x00)) == []


def test_framer_reassembles_split_frames_and_skips_noise():
    framer = Em4100Framer()
    data = b"\xff\x00garbage" + frame("0102030405") + frame("a1a2a3a4a5")
    uids = [uid for i in range(0, len(data), 3) for uid in framer.feed(data[i : i + 3])]
    assert uids == ["0102030405", "A1A2A3A4A5"]


def test_framer_recovers_from_a_truncated_frame():
    data = b"\x02010203" + frame("0102030405")  # a frame cut off, then a whole one
    assert Em4100Framer().feed(data) == ["0102030405"]


def test_framer_accepts_cr_lf_inside_a_frame():
    whole = frame("0102030405")
    assert Em4100Framer().feed(whole[:-1] + b"\r\n\x03") == ["0102030405"]


class FakePort:
    """Just enough of pyserial's Serial: bytes come from a script, one chunk per read."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.timeout: float | None = None
        self.closed = False

    @property
    def in_waiting(self) -> int:
        return 0

    def read(self, size: int = 1) -> bytes:
        return self.chunks.pop(0) if self.chunks and size else b""

    def close(self) -> None:
        self.closed = True


class StepClock:
    """Each frame is read a little later: the times come from a list."""

    def __init__(self, times: list[float]) -> None:
        self.times = times

    def __call__(self) -> float:
        return self.times.pop(0)


def test_uart_reports_a_held_card_once_and_again_after_a_pause():
    held = [frame("0102030405")] * 4
    port = FakePort([*held, frame("0102030405"), frame("a1a2a3a4a5")])
    # frames at 0, 0.1, 0.2, 0.3 (held), then 1.5 (after a pause), then another card
    reader = UartReader("/dev/serial0", port=port, clock=StepClock([0, 0.1, 0.2, 0.3, 1.5, 1.6]))
    got = []
    while (uid := reader.read(timeout=0)) is not None or port.chunks:
        if uid is not None:
            got.append(uid)
    assert got == ["0102030405", "0102030405", "A1A2A3A4A5"]
    assert reader.tech == "em4100"
    reader.close()
    assert port.closed


# -- the fake reader ----------------------------------------------------------------------------


def test_fake_reader_gives_presented_cards_in_canonical_form():
    reader = FakeReader()
    reader.present("04:a1:b2:c3")
    reader.present("0102030405")
    assert reader.read(timeout=1) == "04A1B2C3"
    assert reader.read(timeout=0) == "0102030405"
    assert reader.read(timeout=0) is None


def test_fake_reader_refuses_what_is_not_a_uid():
    with pytest.raises(CardError):
        FakeReader().present("hello")


def test_fake_reader_is_fed_from_another_thread_and_close_unblocks_a_read():
    reader = FakeReader()
    threading.Timer(0.05, reader.present, args=("04A1B2C3",)).start()
    assert reader.read(timeout=5) == "04A1B2C3"
    threading.Timer(0.05, reader.close).start()
    assert reader.read(timeout=None) is None
    assert reader.read(timeout=None) is None  # closed: never blocks again


def test_open_reader_makes_what_the_config_says():
    assert isinstance(open_reader(ReaderConfig()), FakeReader)
    port_config = ReaderConfig.model_validate({"type": "uart", "path": "/nonexistent/tty"})
    with pytest.raises(Exception, match="nonexistent"):
        open_reader(port_config)  # the real driver, lazily imported, fails to open the port
