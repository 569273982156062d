"""The on-site gateway: answers taps from its policy snapshot when the server is silent.

>>> gw = Gateway(load_settings(site="piaseczno"), Path("var/gateway"))  # doctest: +SKIP
>>> gw.start()  # doctest: +SKIP
>>> gw.wait_for_snapshot(timeout=5)  # doctest: +SKIP
True
>>> gw.stop()  # doctest: +SKIP

How it decides (docs/architecture.md, How a tap flows, step 4):

- It hears every tap of the site and every decision sent to a door. A tap that was
  replayed from a door's outbox, or that a decision was already seen for, is never
  answered.
- If no server replica is online (its last valid `sys/server/+/status` says online and it
  was heard within three of its intervals: gateway.takeover), it decides the tap at once,
  on paho's thread; otherwise it waits for the takeover time (500 ms by default),
  measured from when it received the tap, for a decision on that tap, and decides only if
  none came. One thread keeps the waiting taps on a heap; no thread per tap.
- It decides as the server does (gateway.answer): the tap limits of the snapshot's rules,
  then `protocol.decide.decide()` over the newest snapshot it holds, with its own clock,
  and publishes the Decision with `"by": "gateway"` (no name: the snapshot has none). A
  `too_many_attempts` waits for a pause in the taps (at most a second), so a flood's
  answers never queue in front of a known card's.
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
- Every message is parsed and validated inside a guard (gateway.rejects): what cannot be
  handled is counted per device and reason, logged at most once per device and minute,
  and dropped; nothing raises into paho's loop.

It fetches the snapshot at start, whenever a PolicyNotice names another version than the
one it holds, and every `refresh` (5 minutes) to have it confirmed; fetching runs on its
own thread, never on paho's.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as paho

from gateway.answer import Silent, TapAnswers
from gateway.config import GatewaySettings
from gateway.rejects import Rejected, Rejects
from gateway.snapshot import FetchError, PolicyFetcher, SnapshotStore, newer
from gateway.takeover import Pending, Replicas, heard_at, server_status
from protocol import topics
from protocol.messages import (
    Decision,
    PolicyNotice,
    Reason,
    Status,
    Tap,
    decode,
    utcnow,
)
from protocol.mqtt import MqttClient
from protocol.systemd import supervise

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Monotonic = Callable[[], float]

# How long a tap id is remembered after it was decided: far longer than any door waits.
REMEMBER_S = 120.0
# Between failed snapshot fetches over HTTP (the MQTT client reconnects on its own, within
# half a second: protocol.mqtt).
MAX_BACKOFF_S = 30.0


@dataclass
class GatewayCounters:
    taps: int = 0
    decisions: int = 0  # decisions heard, anyone's
    answered: int = 0  # decisions the gateway published
    left_to_server: int = 0  # taps the server answered in time
    fetches: int = 0
    fetch_errors: int = 0


def _device(topic: topics.Topic) -> str:
    if topic.device is None:
        raise Rejected("bad_topic", "not a device topic")
    return topic.device


class Gateway:
    """The gateway of one site: `Gateway(settings, data_dir).start()`, later `.stop()`.

    `clock` is the gateway's wall clock (decisions, `fetched_at`, staleness) and
    `limits_clock` the monotonic clock of its tap limits (seconds); a test moves them.
    `http` replaces the HTTP client the snapshot is fetched with. The `on_*` handlers are
    what the MQTT client calls (a test may feed them a message directly); rejected
    messages are counted in `rejects`. Raises GatewayConfigError when the settings lack a
    token or a card key."""

    def __init__(
        self,
        settings: GatewaySettings,
        data_dir: Path | str,
        *,
        clock: Clock = utcnow,
        limits_clock: Monotonic = time.monotonic,
        http: httpx.Client | None = None,
    ) -> None:
        self.settings = settings
        self.site = settings.site
        self.clock = clock
        self.limits_clock = limits_clock
        self.max_age = timedelta(seconds=settings.max_age)
        self.store = SnapshotStore(Path(data_dir))
        held = self.store.load()
        if held is not None:
            log.info("policy snapshot %s-%s from disk", *held.version)
        self.answers = TapAnswers(self.store, settings.resolve_card_key(), max_age=self.max_age)
        self.fetcher = PolicyFetcher(
            settings.server_url,
            self.site,
            settings.token(),
            http=http,
            timeout=settings.http_timeout,
        )
        self.replicas = Replicas()
        self.pending = Pending()
        self.counters = GatewayCounters()
        self.rejects = Rejects()
        self.on_notice = self.rejects.guard(self._notice)
        self.on_server_status = self.rejects.guard(self._server_status)
        self.on_decision = self.rejects.guard(self._decision)
        self.on_tap = self.rejects.guard(self._tap)
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
        # Busiest first: the client tries the filters in this order for every message.
        self.client.subscribe(topics.all_events(self.site, "tap"), self.on_tap)
        self.client.subscribe(topics.all_commands(self.site, "decision"), self.on_decision)
        self.client.subscribe(topics.all_server_status(self.site), self.on_server_status)
        self.client.subscribe(topics.policy(self.site), self.on_notice)

        self._stop = threading.Event()
        self._fetch_now = threading.Event()
        self._refreshed = threading.Condition()
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

    def healthy(self) -> bool:
        """Its threads alive (what the systemd watchdog is told); a stopped gateway is not."""
        return not self._stop.is_set() and all(thread.is_alive() for thread in self._threads)

    def stop(self) -> None:
        """Say offline, disconnect, and stop the threads (once; a second call does nothing)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._fetch_now.set()
        with self.pending.cond:
            self.pending.cond.notify_all()
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

    # -- MQTT handlers (paho's thread, inside the guard): parse, hand over -------------

    def _notice(self, topic: topics.Topic, msg: paho.MQTTMessage) -> None:
        if not msg.payload:
            return  # the retained notice was cleared: nothing new to fetch
        notice = decode(PolicyNotice, bytes(msg.payload))
        held = self.store.current
        if newer((notice.epoch, notice.n), held.version if held else None):
            log.debug("policy notice %s-%s: fetching", notice.epoch, notice.n)
            self._fetch_now.set()

    def _server_status(self, topic: topics.Topic, msg: paho.MQTTMessage) -> None:
        received = time.monotonic()
        if topic.kind != "server" or topic.instance is None:
            raise Rejected("bad_topic", "not a server replica's status")
        status = server_status(bytes(msg.payload))
        if status is not None:
            # The real clock, not `self.clock`: a test that moves the gateway's clock must
            # not make every server look dead.
            received = heard_at(status, received, retained=bool(msg.retain), now=utcnow())
        self.replicas.update(topic.instance, status, received)

    def _known(self, device: str, what: str) -> None:
        held = self.store.current
        if held is not None and device not in held.snapshot.doors:
            raise Rejected("unknown_device", f"{what} of a device that is no door of the snapshot")

    def _decision(self, topic: topics.Topic, msg: paho.MQTTMessage) -> None:
        device = _device(topic)
        decision = decode(Decision, bytes(msg.payload))
        self._known(device, "a decision")
        self.counters.decisions += 1
        if self.pending.decided((device, decision.id), time.monotonic()):
            self.counters.left_to_server += 1

    def _tap(self, topic: topics.Topic, msg: paho.MQTTMessage) -> None:
        received = time.monotonic()
        device = _device(topic)
        tap = decode(Tap, bytes(msg.payload))
        if tap.replay:
            return
        self.counters.taps += 1
        self._known(device, "a tap (not answered)")
        key = (device, tap.id)
        if self.replicas.any_online(received):
            self.pending.add(key, tap, now=received, due=received + self.settings.takeover)
        elif self.pending.take(key, received):
            # No server: answered at once, here, rather than handed to the timer thread
            # (in a flood, every hand-over between threads costs a known card time).
            self._answer(device, tap)

    # -- the timer thread: taps whose time is up, heartbeats, forgetting ----------------

    def _run_timers(self) -> None:
        pending = self.pending
        next_beat = time.monotonic() + self.settings.heartbeat
        while not self._stop.is_set():
            with pending.cond:
                now = time.monotonic()
                due = pending.due(now)
                late = pending.late(now)
                beat = now >= next_beat
                if beat:
                    next_beat = now + self.settings.heartbeat
                    pending.forget(now - REMEMBER_S)
                if not due and not late and not beat:
                    pending.cond.wait(pending.next_at(next_beat) - now)
                    continue
            # Published outside the lock: paho's thread takes it in the tap handler.
            for device, tap in due:
                self._answer(device, tap)
            for device, decision in late:
                self._publish(device, decision)
            if beat and self.client.connected:
                self._announce()

    def _answer(self, device: str, tap: Tap) -> None:
        try:
            outcome = self.answers.outcome(
                device, tap.card, now=self.clock(), mono_now=self.limits_clock()
            )
        except Exception as exc:
            self.rejects.count(
                device, "failed", f"could not decide tap {tap.id}: {exc!r}", trace=True
            )
            return
        if outcome is Silent.FLOOD:
            self.rejects.count(device, "flood", f"tap {tap.id}: refused, not answered")
            return
        if outcome is None:
            self.rejects.count(device, "unknown_device", f"tap {tap.id}: no door of the snapshot")
            return
        decision = Decision(
            id=tap.id,
            granted=outcome.granted,
            reason=outcome.reason,
            unlock_s=outcome.unlock_s,
            by="gateway",
            reader=tap.reader,
        )
        if outcome.reason is not Reason.TOO_MANY_ATTEMPTS:
            self._publish(device, decision)
        elif not self.pending.defer(device, decision, time.monotonic()):
            self.rejects.count(device, "flood", f"tap {tap.id}: too many answers wait")

    def _publish(self, device: str, decision: Decision) -> None:
        self.client.publish(topics.decision(self.site, device), decision)
        self.counters.answered += 1
        # A flood's answers are counted (self.answers), not logged one by one.
        level = logging.DEBUG if decision.reason == Reason.TOO_MANY_ATTEMPTS else logging.INFO
        log.log(level, "tap %s at %s: %s by gateway", decision.id, device, decision.reason)

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
        supervise(stop, healthy=gw.healthy)
    finally:
        gw.stop()
