"""The guard every MQTT message of the server goes through: whatever happens, it is
acknowledged exactly once, and never before its effects are committed or set aside.

A consumer hands each message to `Inbox.receive` (on paho's thread), or opens a `Letter`
for it and settles it later (the sensors' batches). The handler parses, validates and
applies one message, and says how that went by what it raises:

- nothing: applied and committed; acknowledged.
- `Rejected(reason)`: it can never apply (a bad topic, an unknown device, an invalid
  payload): counted per device and reason, logged at most once per device a minute,
  acknowledged.
- `NotYet(reason)`: it may apply once an earlier message has (a Result whose tap is
  held): tried again for up to `NOT_YET_S` while an earlier message of its device is
  still under way, then rejected.
- a transient database error (locked, gone, full): held unacknowledged and tried again by
  the inbox's own thread with backoff, so paho's thread goes on with other devices'
  messages. Held past `GIVE_UP_S`, it is kept in the dead-letter table once the database
  takes it, and acknowledged. While the database takes nothing it stays held: the
  broker's in-flight window holds the rest back, and all resumes when the database does.
- anything else: a bug for that message: dead-lettered at once and acknowledged.

With `first`, paho's thread takes a first look at each message as it arrives (the door
path answers a tap there) and the handler runs on the inbox's own thread, in arrival
order (a write waiting for the lock never delays the next look), unless it is behind.

    inbox = Inbox("door path", handle, ack=client.ack, store=box, wall=ctx.clock)
    client.subscribe(filter_, inbox.receive)
    inbox.start()
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime

import paho.mqtt.client as paho

from protocol.messages import utcnow
from server.adapters.dead_letters import Store
from server.adapters.letters import InboxStats, Letter, retry_delay
from server.adapters.rejections import INVALID, LOG_EVERY_S, LogEvery, Rejections, device_of
from server.adapters.writehealth import WriteHealth, transient
from server.errors import NotYet, Rejected

log = logging.getLogger(__name__)

GIVE_UP_S = 30.0  # failing transiently this long: set aside as a dead letter
NOT_YET_S = 5.0
# With several replicas a Result may reach one while another still commits its tap: held
# this long even with nothing of its device under way here, so many at most at once (a
# flood of forged Results must not take the broker's in-flight window).
ELSEWHERE_S = 2.0
ELSEWHERE_MAX = 5
OWED_MAX = 10_000  # acknowledgements owed to redeliveries, remembered at most
BEHIND_S = 2.0  # the thread this far behind: no first look, so no record lags any further

Handle = Callable[[str, bytes], object]


class Inbox:
    """Guards one consumer's messages: acknowledge, count, hold and retry, set aside."""

    def __init__(
        self,
        name: str,
        handle: Handle,
        *,
        ack: Callable[[paho.MQTTMessage], object],
        store: Store,
        rejections: Rejections | None = None,
        health: WriteHealth | None = None,
        wall: Callable[[], datetime] = utcnow,
        clock: Callable[[], float] = time.monotonic,
        give_up_s: float = GIVE_UP_S,
        not_yet_s: float = NOT_YET_S,
        elsewhere_s: float = 0.0,
        first: Handle | None = None,
    ) -> None:
        self.name = name
        self.handle = handle
        self.first = first
        self.rejections = rejections or Rejections(name, clock=clock)
        self.health = health or WriteHealth()
        self.stats = InboxStats()
        self.give_up_s = give_up_s
        self.not_yet_s = not_yet_s
        self.elsewhere_s = elsewhere_s  # 0: no other consumer shares this stream
        self._ack = ack
        self._store = store
        self._wall = wall
        self._clock = clock
        self._cond = threading.Condition()
        self._open: dict[int, Letter] = {}  # by seq, so in arrival order
        self._held: list[tuple[float, int, Letter]] = []  # (due, seq, letter), a heap
        self._fresh: deque[Letter] = deque()  # looked at, for the thread to handle (`first`)
        self._stale: dict[tuple[str, bytes], Letter] = {}  # open, from an earlier connection
        self._owed: OrderedDict[tuple[str, bytes], None] = OrderedDict()
        self._connection = 0
        self._seq = 0
        self._bugs = LogEvery(LOG_EVERY_S, clock)
        self._troubles = LogEvery(LOG_EVERY_S, clock)
        self._failing = False
        self._busy = 0  # attempts under way
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"inbox-{name}", daemon=True)

    # -- life ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Handle nothing more and let what is under way finish: what is held or arrives
        from now on stays unacknowledged, for the broker to send again."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
            self._cond.wait_for(lambda: not self._busy, timeout)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def new_connection(self) -> None:
        """A (re)connection: packet ids of the earlier one mean nothing any more, and the
        broker sends again what was not acknowledged on it."""
        with self._cond:
            self._connection += 1
            for letter in self._open.values():
                if letter.connection != self._connection:
                    self._stale.setdefault(letter.key, letter)

    # -- what the consumer calls ----------------------------------------------------------

    def receive(self, msg: paho.MQTTMessage) -> None:
        """A message on paho's thread: handled there, or looked at there (`first`)."""
        letter, first = self.open(msg), self.first
        if letter is not None and first is None:
            self.attempt(letter)
        elif letter is not None and first is not None:
            with self._cond:
                behind = self._clock() - self._fresh[0].received if self._fresh else 0.0
            if behind < BEHIND_S:  # else its record would lag far behind its answer
                with contextlib.suppress(Exception):  # the handler meets it again, settles it
                    first(letter.topic, letter.payload)
            with self._cond:
                self._fresh.append(letter)
                self._cond.notify_all()

    def open(
        self, msg: paho.MQTTMessage | None, topic: str = "", payload: bytes = b""
    ) -> Letter | None:
        """A Letter for a message that has just arrived; None for a copy the broker sent
        again of one already under way (it takes the copy over) or already settled
        (acknowledged now)."""
        if msg is not None:
            topic, payload = msg.topic, bytes(msg.payload)
        key = (topic, payload)
        with self._cond:
            if self._stop.is_set():
                return None  # stopping: left for the broker to send again
            self.stats.received += 1
            stale = self._stale.pop(key, None)
            if stale is not None and msg is not None:
                stale.msg, stale.connection = msg, self._connection
                self.stats.redelivered += 1
                return None
            if key in self._owed and msg is not None:
                del self._owed[key]
                self.stats.redelivered += 1
                self.stats.acked += 1
                owed = True
            else:
                owed = False
                self._seq += 1
                letter = Letter(
                    topic, payload, msg, self._connection, self._seq, self._clock(), self._wall()
                )
                self._open[letter.seq] = letter
        if owed:
            assert msg is not None
            self._ack(msg)
            return None
        return letter

    def attempt(self, letter: Letter) -> None:
        """Handle a letter once and settle it by what happened (not once stopping)."""
        with self._cond:
            if self._stop.is_set():
                return
            self._busy += 1
        try:
            try:
                self.handle(letter.topic, letter.payload)
            except Exception as exc:  # every outcome is settled, none escapes
                self.settle(letter, exc)
            else:
                self.settle(letter)
        finally:
            with self._cond:
                self._busy -= 1
                # Only `stop` waits for this: waking the retry thread after every message
                # would cost each one a thread switch.
                if self._stop.is_set() and not self._busy:
                    self._cond.notify_all()

    def settle(self, letter: Letter, exc: BaseException | None = None) -> None:
        """The outcome of handling `letter`: None for applied, else what was raised."""
        letter.attempts += 1
        if exc is None:
            self._recovered()
            self._done(letter)
            return
        now = self._clock()
        if isinstance(exc, NotYet) and self._may_wait(letter, now):
            self._hold(letter, now)
            return
        if isinstance(exc, Rejected):
            self.rejections.reject(device_of(letter.topic), exc.reason, str(exc))
            self._done(letter)
            return
        letter.error = f"{type(exc).__name__}: {exc}"[:500]
        if transient(exc):
            self._trouble(exc)
            letter.failing_since = letter.failing_since or now
            if now - letter.failing_since < self.give_up_s:
                self._hold(letter, now)
                return
        else:
            letter.poisoned = True
            self._log_bug(letter, exc)
        self._set_aside(letter)

    # -- what health and the backlog read -------------------------------------------------

    def lag_s(self) -> float:
        """Age of the oldest message received and not acknowledged yet (0.0 when none)."""
        with self._cond:
            oldest = next(iter(self._open.values()), None)
        return 0.0 if oldest is None else max(0.0, self._clock() - oldest.received)

    @property
    def last_seq(self) -> int:
        """The arrival number of the latest message."""
        with self._cond:
            return self._seq

    def settled_through(self, seq: int) -> bool:
        """Whether every message up to arrival number `seq` has been settled."""
        with self._cond:
            oldest = next(iter(self._open), None)
        return oldest is None or oldest > seq

    def held(self) -> int:
        """Messages waiting to be tried again."""
        with self._cond:
            return len(self._held)

    # -- inside ---------------------------------------------------------------------------

    def _may_wait(self, letter: Letter, now: float) -> bool:
        """Whether a NotYet letter is held to be tried again: while an earlier message of
        its device is under way here (up to `not_yet_s`), or, where other replicas share
        the stream, while one may still be applying it (up to `elsewhere_s`, a few at once)."""
        letter.not_yet_since = letter.not_yet_since or now
        waited = now - letter.not_yet_since
        if self._waits_on_earlier(letter):
            return waited < self.not_yet_s
        if letter.elsewhere:
            return waited < self.elsewhere_s
        if self.elsewhere_s <= 0:
            return False
        with self._cond:
            letter.elsewhere = sum(held.elsewhere for _d, _s, held in self._held) < ELSEWHERE_MAX
        return letter.elsewhere

    def _waits_on_earlier(self, letter: Letter) -> bool:
        """Whether a message of the same device that came before this one is still under
        way, and not itself waiting for another. The broker delivers a device's messages
        in order, so without one, what this one waits for was never sent (or was refused):
        waiting would only hold an in-flight slot, which forged messages could use to
        stall the door path (each waiting on the forged one before it)."""
        device = device_of(letter.topic)
        with self._cond:
            return any(
                other.seq < letter.seq
                and other.not_yet_since is None
                and device_of(other.topic) == device
                for other in self._open.values()
            )

    def _done(self, letter: Letter) -> None:
        """Acknowledge on the connection the letter came on, or owe it to the copy the
        broker sends again after a reconnect."""
        with self._cond:
            if self._open.pop(letter.seq, None) is None:
                return  # settled already
            if self._stale.get(letter.key) is letter:
                del self._stale[letter.key]
            msg = letter.msg
            if msg is not None and letter.connection != self._connection:
                self._owed[letter.key] = None
                while len(self._owed) > OWED_MAX:
                    self._owed.popitem(last=False)
                msg = None
            elif msg is not None:
                self.stats.acked += 1
        if msg is not None:
            self._ack(msg)

    def _hold(self, letter: Letter, now: float) -> None:
        with self._cond:
            heapq.heappush(self._held, (now + retry_delay(letter.attempts), letter.seq, letter))
            self._cond.notify_all()

    def _set_aside(self, letter: Letter) -> None:
        """Keep it in the dead-letter table and acknowledge it; held while the database
        cannot take even that."""
        try:
            device = device_of(letter.topic)
            self._store(
                topic=letter.topic,
                payload=letter.payload,
                device_id=None if device == INVALID else device,
                error=letter.error,
                attempts=letter.attempts,
                received=letter.received_at,
            )
        except Exception as exc:
            if transient(exc):
                self._trouble(exc)
                self._hold(letter, self._clock())
                return
            log.exception("%s: could not keep a dead letter for %.200r", self.name, letter.topic)
            self.rejections.reject(device_of(letter.topic), "unstorable", letter.error)
            self._done(letter)
            return
        self.stats.dead_letters += 1
        text = "%s: a message on %.200r set aside as a dead letter after %d attempt(s): %s"
        log.error(text, self.name, letter.topic, letter.attempts, letter.error)
        self._done(letter)

    def _trouble(self, exc: BaseException) -> None:
        self.health.failed()
        self._failing = True
        now, quiet = self._troubles.due("db")
        if now:
            text = "%s: the database did not take a write (%s); %d message(s) held, tried again%s"
            more = f" ({quiet} more failures since the last line)" if quiet else ""
            log.warning(text, self.name, str(exc).splitlines()[0][:200], self.held() + 1, more)

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.warning("%s: the database takes writes again; held messages resume", self.name)

    def _log_bug(self, letter: Letter, exc: BaseException) -> None:
        now, quiet = self._bugs.due(device_of(letter.topic))
        if now:
            text = "%s: handling a message on %.200r failed (%d more since the last line)"
            log.error(text, self.name, letter.topic, quiet, exc_info=exc)

    def retry_due(self) -> int:
        """Handle the letters `first` looked at, then try again every held letter that is
        due: what the inbox's thread does (tests call it after moving the clock); how many."""
        tried = 0
        while self._step(wait=False):
            tried += 1
        return tried

    def _run(self) -> None:
        while not self._stop.is_set():
            self._step(wait=True)

    def _step(self, *, wait: bool) -> bool:
        """Handle the next letter looked at, or retry the held one due; False if none."""
        with self._cond:
            fresh = self._fresh.popleft() if self._fresh else None
            heap = self._held
            left = heap[0][0] - self._clock() if heap else 0.5
            due = heapq.heappop(heap)[2] if fresh is None and heap and left <= 0 else None
            if fresh is None and due is None and wait:
                self._cond.wait(min(left, 0.5))
        if fresh is not None:
            self.attempt(fresh)
        elif due is not None:
            self._retry(due)
        return fresh is not None or due is not None

    def _retry(self, letter: Letter) -> None:
        self.stats.retries += 1
        if letter.poisoned:
            letter.attempts += 1
            self._set_aside(letter)
        else:
            self.attempt(letter)
