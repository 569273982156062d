"""Live events across a site's replicas, through PostgreSQL's LISTEN/NOTIFY: every
replica's dashboards hear every replica's events, every reception desk is offered the
unknown cards tapped at any replica (server.access.unknown_cards), and a card's denials add
up across replicas (server.access.limiter). Each site of a deployment has a channel of its
own (`channel`): a site's dashboards hear its own site's replicas only.

    relay = LiveRelay(ctx)    # on PostgreSQL only; on SQLite one server hears everything
    relay.start()
    ...
    relay.stop()

What this replica's bus publishes is queued (the door path never waits for it) and sent by
a thread of its own, a batch per round trip, as NOTIFYs on the site's channel on a
connection of its own; another thread LISTENs on a second connection and hands what the
other replicas sent to this replica's subscribers (EventBus.publish_relayed), unknown cards
and counts. Each payload names its sender, so a replica skips its own. PostgreSQL
delivers notifications to every listener in the order they were sent. A relay that fails
(the database away) drops what it could not send and connects again: a dashboard that
missed an event gets the current state when it reconnects, as it does when its own queue
overflows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import uuid
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Engine

from protocol.messages import Reason
from server.access.limiter import Counted
from server.access.unknown_cards import UnknownTap
from server.context import ServerContext

log = logging.getLogger(__name__)

CHANNEL = "spacehub_live_"  # and the site's id
CHANNEL_MAX = 63  # PostgreSQL's identifiers are at most 63 bytes long
BATCH = 100
QUEUE_MAX = 10_000
MAX_PAYLOAD = 7900  # PostgreSQL takes up to 8000 bytes per notification
RETRY_S = 1.0
# the kinds of what is relayed besides live events (server.live.kinds)
UNKNOWN_CARD = "unknown_card"
TAP_COUNT = "tap_count"
NOTIFY = (
    "SELECT pg_notify(%s, payload) FROM unnest(%s::text[]) WITH ORDINALITY AS p(payload, n) "
    "ORDER BY n"
)


class LiveRelay:
    """Relays the live events of this replica's bus to the others, and theirs to it."""

    def __init__(self, ctx: ServerContext) -> None:
        self.engine = ctx.engine
        self.bus = ctx.events
        self.unknown_cards = ctx.access.unknown_cards
        self.limiter = ctx.access.limiter
        self.sender = uuid.uuid4().hex  # this process, whatever its `instance`
        self.channel = channel(ctx.site.id)
        self.relayed = 0  # events heard from other replicas
        self._sent = 0
        self._out: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue(QUEUE_MAX)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._guarded, args=(self._send,), name="live-relay-out"),
            threading.Thread(target=self._guarded, args=(self._listen,), name="live-relay-in"),
        ]
        for thread in self._threads:
            thread.daemon = True
        self.listening = threading.Event()

    def start(self) -> None:
        self.bus.relays.add(lambda event: self._queue(event.kind, event.data))
        self.unknown_cards.relays.add(self._unknown_card)
        self.limiter.relays.add(self._tap_count)
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)

    def _queue(self, kind: str, data: dict[str, Any]) -> None:
        try:
            self._out.put_nowait((kind, data))
        except queue.Full:
            log.warning("live relay: queue full, an event is not relayed")

    def _unknown_card(self, tap: UnknownTap) -> None:
        data = {"device_id": tap.device_id, "card_hash": tap.card_hash, "at": tap.at.isoformat()}
        self._queue(UNKNOWN_CARD, data)

    def _tap_count(self, counted: Counted) -> None:
        data = {"card": counted.card, "granted": counted.granted, "reason": counted.reason}
        self._queue(TAP_COUNT, data)

    def _guarded(self, loop: Any) -> None:
        """Run `loop` on a connection of its own until stopped; connect again after a
        failure."""
        while not self._stop.is_set():
            try:
                with _connect(self.engine) as conn:
                    loop(conn)
            except Exception as exc:
                self.listening.clear()
                log.warning("live relay: %s", str(exc).splitlines()[0][:200])
                self._stop.wait(RETRY_S)

    def _send(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stop.is_set():
            try:
                batch = [self._out.get(timeout=0.2)]
            except queue.Empty:
                continue
            while len(batch) < BATCH:
                try:
                    batch.append(self._out.get_nowait())
                except queue.Empty:
                    break
            payloads = [p for p in (self._payload(*item) for item in batch) if p is not None]
            conn.execute(NOTIFY, [self.channel, payloads])

    def _payload(self, kind: str, data: dict[str, Any]) -> str | None:
        # numbered: PostgreSQL delivers identical payloads of one transaction only once
        self._sent += 1
        message = {"from": self.sender, "n": self._sent, "kind": kind, "data": data}
        payload = json.dumps(message)
        if len(payload.encode()) > MAX_PAYLOAD:
            log.warning("live relay: a %s event too large to relay", kind)
            return None
        return payload

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(f'LISTEN "{self.channel}"')
        self.listening.set()
        while not self._stop.is_set():
            for note in conn.notifies(timeout=0.5):
                self._received(note.payload)

    def _received(self, payload: str) -> None:
        try:
            message = json.loads(payload)
            if message["from"] == self.sender:
                return
            kind, data = message["kind"], message["data"]
            if kind == UNKNOWN_CARD:
                at = datetime.fromisoformat(data["at"])
                self.unknown_cards.add_relayed(UnknownTap(data["device_id"], data["card_hash"], at))
            elif kind == TAP_COUNT:
                counted = Counted(data["card"], bool(data["granted"]), Reason(data["reason"]))
                self.limiter.follow_count(counted)
            else:
                self.bus.publish_relayed(kind, data)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("live relay: a notification that is no live event: %s", exc)
            return
        self.relayed += 1


def channel(site_id: str) -> str:
    """The site's channel: its id after the prefix, or a digest of a long id (quoted in
    LISTEN, so its `-` are kept)."""
    name = CHANNEL + site_id
    if len(name) > CHANNEL_MAX:
        name = CHANNEL + hashlib.blake2b(site_id.encode(), digest_size=16).hexdigest()
    return name


def _connect(engine: Engine) -> psycopg.Connection[Any]:
    """A psycopg connection made as the engine makes its own, out of its pool, in
    autocommit (a notification goes out at once; LISTEN needs no transaction)."""
    raw = engine.raw_connection()
    conn: psycopg.Connection[Any] = raw.dbapi_connection  # type: ignore[assignment]
    raw.detach()  # closed for good when done, never back to the pool
    conn.autocommit = True
    return conn
