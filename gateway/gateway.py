"""The on-site gateway: answers taps from its policy snapshot when the server is silent.

>>> gw = Gateway(load_settings(site="piaseczno"), Path("var/gateway"))  # doctest: +SKIP
>>> gw.start()  # doctest: +SKIP
>>> gw.wait_for_snapshot(timeout=5)  # doctest: +SKIP
True
>>> gw.stop()  # doctest: +SKIP

How it decides (DESIGN.md, How a tap flows, step 4):

- It hears every tap of the site and every decision sent to a door. A tap that was
  replayed from a door's outbox, or that a decision was already seen for, is never
  answered.
- If no server replica is online (retained `sys/server/+/status` online and heard within
  three of its intervals), it decides the tap at once; otherwise it waits for the
  takeover time (500 ms by default), measured from when it received the tap, for a
  decision on that tap, and decides only if none came. One thread keeps the waiting taps
  on a heap; no thread per tap.
- It decides with `protocol.decide.decide()` over the newest snapshot it holds, with its
  own clock, and publishes the Decision with `"by": "gateway"` (no name: the snapshot has
  none).
- It changes no state. A grant that implies a check-in or a walk-in booking is still
  granted (the room is free, or the booking theirs, per the snapshot); the server
  applies the check-in or creates the walk-in when it learns from the door's Result what
  the door did. Until then a second walk-in into the same room is admitted too: the
  gateway does not book rooms.
- A snapshot the server has not confirmed (a 200 or a 304) for longer than `max_age`
  (7 days) is stale: staff are still admitted, every other grant becomes a
  `policy_stale` denial; denials keep their own reason.
- Without any snapshot (a new gateway that never reached the server) every tap is
  denied `policy_stale`: it knows no card and no door, so it can admit nobody.
- A tap from a device that is not a door of the snapshot is not answered (the server
  does not answer unknown devices either).

It fetches the snapshot at start, whenever a PolicyNotice names another version than the
one it holds, and every `refresh` (5 minutes) to have it confirmed; fetching runs on its
own thread, never on paho's.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as paho

from gateway.config import GatewaySettings
from gateway.snapshot import FetchError, HeldSnapshot, PolicyFetcher, SnapshotStore, newer
from protocol import topics
from protocol.cards import card_hash
from protocol.decide import Outcome, decide
from protocol.messages import (
    Decision,
    PolicyNotice,
    ProtocolError,
    Reason,
    Status,
    Tap,
    decode,
    utcnow,
)
from protocol.mqtt import MqttClient

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# How long a tap id is remembered after it was decided: far longer than any door waits.
REMEMBER_S = 120.0
MAX_BACKOFF_S = 30.0


def system_clock() -> datetime:
    return datetime.now(UTC)


def gateway_outcome(
    held: HeldSnapshot | None,
    door: str,
    hashed_card: str,
    now: datetime,
    *,
    max_age: timedelta,
) -> Outcome | None:
    """What the gateway answers a tap of the card `hashed_card` at door controller `door`:
    `decide()` over the held snapshot, with grants other than `staff` turned into
    `policy_stale` denials when the snapshot was last confirmed more than `max_age` ago;
    `policy_stale` for everyone without a snapshot; None (no answer) for a device that is
    not a door of the snapshot."""
    if held is None:
        return Outcome(False, Reason.POLICY_STALE)
    if door not in held.snapshot.doors:
        return None
    outcome = decide(held.snapshot, door, hashed_card, now)
    stale = now - held.fetched_at > max_age
    if stale and outcome.granted and outcome.reason != Reason.STAFF:
        return Outcome(False, Reason.POLICY_STALE, outcome.member_id)
    return outcome


class Replicas:
    """The server replicas' retained statuses and last wills, and when each was heard."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[bool, float, float]] = {}  # online, heard, interval_s

    def update(self, instance: str, status: Status | None, heard: float) -> None:
        """`heard` is a `time.monotonic()`; None clears the replica (an emptied topic)."""
        with self._lock:
            if status is None:
                self._seen.pop(instance, None)
            else:
                self._seen[instance] = (status.state == "online", heard, status.interval_s)

    def any_online(self, now: float) -> bool:
        """Whether a replica says online and was heard within three of its intervals."""
        with self._lock:
            return any(
                online and now - heard <= 3 * interval
                for online, heard, interval in self._seen.values()
            )


@dataclass
class GatewayCounters:
    taps: int = 0
    decisions: int = 0  # decisions heard, anyone's
    answered: int = 0  # decisions the gateway published
    left_to_server: int = 0  # taps the server answered in time
    unknown_device: int = 0
    invalid: int = 0
    fetches: int = 0
    fetch_errors: int = 0


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    key: tuple[str, str] = field(compare=False)


class Gateway:
    """The gateway of one site: `Gateway(settings, data_dir).start()`, later `.stop()`.

    `clock` is the gateway's wall clock (decisions, `fetched_at`, staleness); a test moves
    it. `http` replaces the HTTP client the snapshot is fetched with. Raises
    GatewayConfigError when the settings lack a token or a card key."""

    def __init__(
        self,
        settings: GatewaySettings,
        data_dir: Path | str,
        *,
        clock: Clock = system_clock,
        http: httpx.Client | None = None,
    ) -> None:
        self.settings = settings
        self.site = settings.site
        self.clock = clock
        self.max_age = timedelta(seconds=settings.max_age)
        self._card_key = settings.resolve_card_key()
        self.store = SnapshotStore(Path(data_dir))
        held = self.store.load()
        if held is not None:
            log.info("policy snapshot %s-%s from disk", *held.version)
        self.fetcher = PolicyFetcher(
            settings.server_url,
            self.site,
            settings.token(),
            http=http,
            timeout=settings.http_timeout,
        )
        self.replicas = Replicas()
        self.counters = GatewayCounters()
        self.status_topic = topics.gateway_status(self.site, settings.instance)
        self.client = MqttClient(
            settings.mqtt_url,
            client_id=f"spacehub-gateway-{self.site}-{settings.instance}",
            will=(self.status_topic, self._status("offline")),
            username=settings.mqtt_username,
            password=settings.mqtt_password,
            ca_file=settings.mqtt_ca_file,
            on_connect=self._announce,
        )
        self.client.subscribe(topics.policy(self.site), self._on_notice)
        self.client.subscribe(topics.all_server_status(self.site), self._on_server_status)
        self.client.subscribe(topics.all_commands(self.site, "decision"), self._on_decision)
        self.client.subscribe(topics.all_events(self.site, "tap"), self._on_tap)

        self._stop = threading.Event()
        self._fetch_now = threading.Event()
        self._refreshed = threading.Condition()
        # The taps waiting for the takeover time, and every tap id recently decided (by
        # anyone), guarded by one condition that also wakes the timer thread.
        self._timers = threading.Condition()
        self._heap: list[_Due] = []
        self._waiting: dict[tuple[str, str], Tap] = {}
        self._decided: dict[tuple[str, str], float] = {}
        self._seq = itertools.count()
        self._threads = [
            threading.Thread(target=self._run_timers, name="gateway-timers", daemon=True),
            threading.Thread(target=self._run_fetches, name="gateway-policy", daemon=True),
        ]

    # -- life ---------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (in the background, retrying) and start fetching and deciding."""
        self.client.start()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Say offline, disconnect, and stop the threads (once; a second call does nothing)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._fetch_now.set()
        with self._timers:
            self._timers.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=10)
        if self.client.connected:
            self.client.publish(
                self.status_topic, self._status("offline"), retain=True
            ).wait_for_publish(2)
        self.client.stop()
        self.fetcher.close()

    def wait_for_snapshot(
        self, version: tuple[str, int] | None = None, *, timeout: float = 10.0
    ) -> bool:
        """Wait until a snapshot (of `version` or newer, if given) is held."""

        def ready() -> bool:
            held = self.store.current
            if held is None or version is None:
                return held is not None
            return held.version[0] == version[0] and held.version[1] >= version[1]

        with self._refreshed:
            return self._refreshed.wait_for(ready, timeout)

    def server_online(self) -> bool:
        return self.replicas.any_online(time.monotonic())

    # -- status ---------------------------------------------------------------------------

    def _status(self, state: str) -> Status:
        return Status(
            state=state,  # type: ignore[arg-type]
            kind="gateway",
            ts=self.clock(),
            interval_s=self.settings.heartbeat,
        )

    def _announce(self) -> None:
        self.client.publish(self.status_topic, self._status("online"), retain=True)

    # -- MQTT handlers (paho's thread): parse, hand over ------------------------------

    def _decode(self, model, msg: paho.MQTTMessage):  # type: ignore[no-untyped-def]
        try:
            return decode(model, bytes(msg.payload))
        except ProtocolError as exc:
            self.counters.invalid += 1
            log.warning("dropped invalid message on %s: %s", msg.topic, exc)
            return None

    def _on_notice(self, msg: paho.MQTTMessage) -> None:
        notice = self._decode(PolicyNotice, msg) if msg.payload else None
        if notice is None:
            return
        held = self.store.current
        if newer((notice.epoch, notice.n), held.version if held else None):
            log.debug("policy notice %s-%s: fetching", notice.epoch, notice.n)
            self._fetch_now.set()

    def _on_server_status(self, msg: paho.MQTTMessage) -> None:
        heard = time.monotonic()
        instance = topics.parse(msg.topic).instance
        if instance is None:
            return
        status = self._decode(Status, msg) if msg.payload else None
        if status is not None and msg.retain:
            # A retained status may be old (a replica that died with the broker): count
            # its age from its own time stamp. The real clock, not `self.clock`: a test
            # that moves the gateway's clock must not make every server look dead.
            heard -= max(0.0, (utcnow() - status.ts).total_seconds())
        self.replicas.update(instance, status, heard)

    def _on_decision(self, msg: paho.MQTTMessage) -> None:
        device = topics.parse(msg.topic).device
        decision = self._decode(Decision, msg)
        if decision is None or device is None:
            return
        key = (device, decision.id)
        self.counters.decisions += 1
        with self._timers:
            if self._waiting.pop(key, None) is not None:
                self.counters.left_to_server += 1
            self._decided.setdefault(key, time.monotonic())

    def _on_tap(self, msg: paho.MQTTMessage) -> None:
        received = time.monotonic()
        device = topics.parse(msg.topic).device
        tap = self._decode(Tap, msg)
        if tap is None or device is None or tap.replay:
            return
        self.counters.taps += 1
        key = (device, tap.id)
        wait = self.settings.takeover if self.replicas.any_online(received) else 0.0
        with self._timers:
            if key in self._decided or key in self._waiting:
                return  # answered already, or a repeated delivery
            self._waiting[key] = tap
            heapq.heappush(self._heap, _Due(received + wait, next(self._seq), key))
            self._timers.notify()

    # -- the timer thread: taps whose time is up, heartbeats, forgetting ----------------

    def _run_timers(self) -> None:
        next_beat = time.monotonic() + self.settings.heartbeat
        while not self._stop.is_set():
            due: list[tuple[str, Tap]] = []
            beat = False
            with self._timers:
                now = time.monotonic()
                while self._heap and self._heap[0].at <= now:
                    key = heapq.heappop(self._heap).key
                    tap = self._waiting.pop(key, None)
                    if tap is not None:  # else a decision came in time
                        self._decided[key] = now
                        due.append((key[0], tap))
                if now >= next_beat:
                    beat = True
                    next_beat = now + self.settings.heartbeat
                    self._forget(now - REMEMBER_S)
                if not due and not beat:
                    until = min(next_beat, self._heap[0].at if self._heap else next_beat)
                    self._timers.wait(until - now)
                    continue
            # Published outside the lock: paho's thread takes it in the tap handler.
            for device, tap in due:
                self._answer(device, tap)
            if beat and self.client.connected:
                self._announce()

    def _forget(self, before: float) -> None:
        for key in [k for k, at in self._decided.items() if at < before]:
            del self._decided[key]

    def _answer(self, device: str, tap: Tap) -> None:
        try:
            outcome = gateway_outcome(
                self.store.current,
                device,
                card_hash(self._card_key, tap.card),
                self.clock(),
                max_age=self.max_age,
            )
        except Exception:
            log.exception("could not decide tap %s at %s", tap.id, device)
            return
        if outcome is None:
            self.counters.unknown_device += 1
            log.warning("tap %s from %r, not a door of the snapshot: not answered", tap.id, device)
            return
        decision = Decision(
            id=tap.id,
            granted=outcome.granted,
            reason=outcome.reason,
            unlock_s=outcome.unlock_s,
            by="gateway",
            reader=tap.reader,
        )
        self.client.publish(topics.decision(self.site, device), decision)
        self.counters.answered += 1
        log.info("tap %s at %s: %s by gateway", tap.id, device, outcome.reason)

    # -- the fetch thread ---------------------------------------------------------------

    def _run_fetches(self) -> None:
        backoff = 1.0
        failing = False
        while not self._stop.is_set():
            self._fetch_now.clear()
            try:
                result = self.fetcher.refresh(self.store, now=self.clock())
            except FetchError as exc:
                self.counters.fetch_errors += 1
                # Once at warning level, then quietly, until it works again.
                log.log(logging.DEBUG if failing else logging.WARNING, "%s", exc)
                failing = True
                wait = backoff
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            else:
                self.counters.fetches += 1
                if failing:
                    log.info("the server answers again")
                failing = False
                backoff = 1.0
                wait = self.settings.refresh
                held = self.store.current
                if result == "fresh" and held is not None:
                    log.info("policy snapshot %s-%s", *held.version)
                with self._refreshed:
                    self._refreshed.notify_all()
            self._fetch_now.wait(wait)


def run_gateway(
    settings: GatewaySettings,
    data_dir: Path | str,
    *,
    stop_event: threading.Event | None = None,
) -> None:
    """Run a gateway until `stop_event` is set (or SIGTERM, or Ctrl-C), then stop it
    cleanly: its retained status says offline."""
    stop = stop_event or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    gw = Gateway(settings, data_dir)
    gw.start()
    log.info("gateway of %s: %s, snapshot from %s", gw.site, gw.client.client_id, gw.fetcher.url)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        gw.stop()
