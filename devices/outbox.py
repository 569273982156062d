"""The on-disk queue every event of a device goes through on its way to the broker, so that
no event is lost to a broken link, a restarted broker or a restarted device.

An event is written to `outbox.db` (SQLite, WAL, one table) before it is sent, and its row
is deleted only once the broker has acknowledged it (the QoS 1 PUBACK). One sender thread
sends the rows in order with at most `window` of them unacknowledged at a time; after every
(re)connection it starts again from the oldest row, so whatever was unacknowledged when a
link broke or the program stopped goes out again, in order. Delivery is at least once: a
row whose PUBACK was lost is sent twice, and consumers treat a repeated `(device, id)` as
handled (docs/protocol.md).

A tap sent late is marked `replay: true`, so the server records it and never decides it:
a tap queued before this outbox was opened (the device restarted) or one sent
`replay_after` seconds or more after it was queued, by which time the door has stopped
waiting for a decision. A tap that goes out again soon after a quick reconnect is not late.

The queue holds at most `max_events` rows; when it is full, each new event drops the
oldest row, whatever its kind (taps, results and door events are equally part of the log,
and the newest motion and counts describe the room as it is now). `dropped` counts the rows
dropped since this outbox was opened (the first drop and every thousandth are logged);
the `seq` gap a drop leaves shows on the server too.

>>> outbox = Outbox("var/devices/reader-main/outbox.db", replay_after=2.0)  # doctest: +SKIP
>>> outbox.start(link)  # the MQTT client, seen through `Link`  # doctest: +SKIP
>>> outbox.connected()  # from the client's on_connect, at every connection  # doctest: +SKIP
>>> outbox.put(topics.tap("piaseczno", "reader-main"), tap)  # doctest: +SKIP
>>> outbox.queued, outbox.dropped  # doctest: +SKIP
(1, 0)
>>> outbox.close()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from protocol import topics
from protocol.files import FILE_MODE, private_file
from protocol.messages import Message, ProtocolError, Tap, decode, encode, format_time, utcnow

log = logging.getLogger(__name__)

FILENAME = "outbox.db"
WINDOW = 32  # unacknowledged rows at most; below MqttClient's in-flight limit of 100
ACK_POLL = 0.01  # seconds between looks for PUBACKs while rows are in flight
IDLE_POLL = 1.0  # seconds the sender sleeps with nothing in flight (a put wakes it)
DROP_LOG_EVERY = 1000  # a full queue logs its first drop, then every 1000th

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so the order survives deletes
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created TEXT NOT NULL  -- when the device queued it, RFC 3339 UTC, for the record
)
"""


class Delivery(Protocol):
    """What the link returns for one message sent: whether the broker acknowledged it."""

    def is_published(self) -> bool: ...


class Link(Protocol):
    """The outbox's view of an MQTT client."""

    @property
    def connected(self) -> bool: ...

    def publish(self, topic: str, payload: bytes) -> Delivery:
        """Send at QoS 1; raise (OSError, ...) when the message could not be handed over."""
        ...

    def forget_unacknowledged(self) -> None:
        """Drop the client's own copies of unacknowledged messages, so that it does not
        resend them after a reconnect: the outbox does that."""
        ...


class Outbox:
    """A bounded SQLite queue of (topic, payload) with a sender thread; thread-safe.

    `put` is what a device's `publish` calls; `connected()` is called from the MQTT
    client's on_connect; `pump()` is one step of the sender (the thread loops over it, a
    test calls it with a fake link and a hand-moved clock).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        max_events: int = 10_000,
        replay_after: float | None = None,
        window: int = WINDOW,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = utcnow,
    ) -> None:
        if max_events < 1 or window < 1:
            raise ValueError("max_events and window must be at least 1")
        self.path = Path(path)
        self.max_events, self.replay_after, self.window = max_events, replay_after, window
        self._clock, self._wallclock = clock, wallclock
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a row was acknowledged or dropped
        self._wake = threading.Event()
        self._closed = False
        self._db = _open(self.path)
        self._count: int = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        # Rows up to here were queued before this start: late, whatever their age.
        self._carried: int = self._db.execute("SELECT MAX(seq) FROM outbox").fetchone()[0] or 0
        self._queued_at: dict[int, float] = {}  # seq -> clock(), for rows queued since
        self._dropped = 0
        self._link: Link | None = None
        self._up = False  # connected() was called and no disconnection seen since
        self._in_flight: OrderedDict[int, Delivery] = OrderedDict()
        self._sent_upto = 0  # the last seq handed to the link on this connection
        self._thread: threading.Thread | None = None
        if self._count:
            log.info("%s: %d events waiting from before this start", self.path, self._count)

    # -- what a device sees ------------------------------------------------------------

    @property
    def queued(self) -> int:
        """Rows not yet acknowledged by the broker (in flight or waiting)."""
        return self._count

    @property
    def dropped(self) -> int:
        """Rows dropped unacknowledged because the queue was full, since it was opened
        (one in flight may have arrived all the same)."""
        return self._dropped

    def put(self, topic: str, message: Message | bytes) -> int:
        """Queue an event on disk (dropping the oldest when full) and wake the sender;
        return its seq. Raises when the payload does not encode or the disk fails."""
        payload = message if isinstance(message, bytes) else encode(message)
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.path}: outbox closed; event for {topic} not queued")
            excess = self._count - self.max_events + 1
            with self._db:  # one transaction: the drop and the new row, or neither
                dropped = self._delete_oldest(excess) if excess > 0 else []
                seq = self._db.execute(
                    "INSERT INTO outbox (topic, payload, created) VALUES (?, ?, ?)",
                    (topic, payload, format_time(self._wallclock())),
                ).lastrowid
            assert seq is not None
            if dropped:
                self._forget_dropped(dropped)
            self._count += 1
            self._queued_at[seq] = self._clock()
        self._wake.set()
        return seq

    # -- the sender --------------------------------------------------------------------

    def attach(self, link: Link) -> None:
        """Send through `link` from now on (see `start` for the thread)."""
        with self._lock:
            self._link = link

    def start(self, link: Link) -> None:
        """Attach `link` and start the sender thread."""
        self.attach(link)
        self._thread = threading.Thread(target=self._run, name=f"outbox-{self.path}", daemon=True)
        self._thread.start()

    def connected(self) -> None:
        """The link has (re)connected: forget what was in flight (and the client's own
        copies of it) and send every row again, from the oldest."""
        with self._lock:
            self._reap()
            if self._link is not None:
                self._link.forget_unacknowledged()
            self._in_flight.clear()
            self._sent_upto = 0
            self._up = True
        self._wake.set()

    def pump(self) -> None:
        """One step of the sender: delete acknowledged rows, then send what the window
        allows, in order, while the link is up."""
        with self._lock:
            if self._closed:
                return
            self._reap()
            link = self._link
            if link is None or not self._up:
                return
            if not link.connected:
                self._up = False  # until connected() says it is back
                return
            room = self.window - len(self._in_flight)
            if room <= 0:
                return
            rows = self._db.execute(
                "SELECT seq, topic, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (self._sent_upto, room),
            ).fetchall()
            for seq, topic, payload in rows:
                if self._late(seq):
                    payload = as_replay(topic, payload)
                try:
                    delivery = link.publish(topic, payload)
                except Exception as exc:  # not handed over: try again on the next step
                    log.warning("%s: could not send %s: %s", self.path, topic, exc)
                    return
                self._in_flight[seq] = delivery
                self._sent_upto = seq

    def flush(self, timeout: float) -> bool:
        """Wait until every row is acknowledged, at most `timeout` seconds; whether it was.
        Returns at once while the link is down."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._lock:
            while self._count and not self._closed:
                left = deadline - time.monotonic()
                link = self._link
                if left <= 0 or link is None or not link.connected:
                    break
                self._changed.wait(min(left, 0.05))
            return self._count == 0

    def close(self) -> None:
        """Stop the sender and close the database; unacknowledged rows stay for next time."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        with self._lock:
            self._db.close()

    # -- internals -----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._closed:
            try:
                self.pump()
            except Exception:  # e.g. the disk failed: log, keep trying, never die silently
                log.exception("%s: sending failed", self.path)
                self._wake.wait(IDLE_POLL)
            # PUBACKs are looked for only while they can come: not while the link is down.
            self._wake.wait(ACK_POLL if self._up and self._in_flight else IDLE_POLL)
            self._wake.clear()

    def _reap(self) -> None:
        acked = [seq for seq, delivery in self._in_flight.items() if _published(delivery)]
        if not acked:
            return
        with self._db:
            self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq in acked])
        for seq in acked:
            del self._in_flight[seq]
            self._queued_at.pop(seq, None)
        self._count -= len(acked)
        self._changed.notify_all()

    def _delete_oldest(self, n: int) -> list[int]:
        # Inside the caller's transaction.
        seqs = [
            seq for (seq,) in self._db.execute("SELECT seq FROM outbox ORDER BY seq LIMIT ?", (n,))
        ]
        self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq in seqs])
        return seqs

    def _forget_dropped(self, seqs: list[int]) -> None:
        for seq in seqs:
            self._in_flight.pop(seq, None)
            self._queued_at.pop(seq, None)
        before, self._dropped = self._dropped, self._dropped + len(seqs)
        self._count -= len(seqs)
        if before == 0 or before // DROP_LOG_EVERY != self._dropped // DROP_LOG_EVERY:
            log.warning(
                "%s: full at %d events: dropping the oldest (%d dropped since start)",
                self.path,
                self.max_events,
                self._dropped,
            )
        self._changed.notify_all()

    def _late(self, seq: int) -> bool:
        if seq <= self._carried:
            return True
        queued_at = self._queued_at.get(seq)
        if queued_at is None:
            return True
        return self.replay_after is not None and self._clock() - queued_at >= self.replay_after


def as_replay(topic: str, payload: bytes) -> bytes:
    """The payload to send for a row sent late: a tap re-encoded with `replay: true`;
    anything else unchanged."""
    try:
        if topics.parse(topic).kind != "tap":
            return payload
        tap = decode(Tap, payload)
        return payload if tap.replay else encode(tap.model_copy(update={"replay": True}))
    except (topics.TopicError, ProtocolError):  # not ours to judge: send it as it is
        return payload


def _published(delivery: Delivery) -> bool:
    try:
        return delivery.is_published()
    except (RuntimeError, ValueError):  # paho: never handed over; resent after a reconnect
        return False


def _open(path: Path) -> sqlite3.Connection:
    """Open (or create) the database, 0600 in a 0700 folder (it holds raw card UIDs until
    they are sent); a file that is not a database is moved aside, so that a damaged SD
    card stops the log, not the door."""
    _private(path)
    try:
        return _connect(path)
    except sqlite3.DatabaseError as exc:
        aside = path.with_name(f"{path.name}.broken-{int(time.time())}")
        log.error("%s: unreadable (%s); moved to %s, starting empty", path, exc, aside)
        for suffix in ("", "-wal", "-shm"):
            damaged = Path(f"{path}{suffix}")
            if damaged.exists():
                damaged.replace(f"{aside}{suffix}")
        _private(path)
        return _connect(path)


def _private(path: Path) -> None:
    # Made 0600 before SQLite opens it: its -wal and -shm files take the database's mode.
    # Those an older version left world-readable after a crash are closed as well.
    private_file(path)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{path}{suffix}", FILE_MODE)


def _connect(path: Path) -> sqlite3.Connection:
    # Every use holds Outbox._lock; `with db:` commits each change (or rolls it back).
    db = sqlite3.connect(path, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on the card before put() returns, so a power cut loses nothing
        # that was queued (one fsync of the WAL per event).
        db.execute("PRAGMA synchronous=FULL")
        db.execute(SCHEMA)
        db.execute("SELECT COUNT(*) FROM outbox").fetchone()
    except Exception:
        db.close()
        raise
    return db
