"""Live events for dashboards: `room`, `access`, `booking`, `device` and `alert`, one
model each (server.live.kinds); `publish` takes the model and the kind follows from it.

Domain services and MQTT handlers publish from any thread; each Server-Sent Events
connection reads its own queue on the event loop. With several replicas, each relays what
it publishes to the others (`relays`, server.adapters.live_relay) and hands on what they
relay (`publish_relayed`), so every dashboard hears every replica's events. A slow client
loses its oldest events rather than holding anyone up (it gets the current state again
when it reconnects).

>>> bus = EventBus()
>>> sub = bus.subscribe()   # on the event loop          # doctest: +SKIP
>>> bus.publish(RoomEvent(id="sala-a", occupied=True, people=None, last_motion=None,
...                       over_capacity=False))  # from any thread  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from server.live.kinds import KINDS, LiveEvent
from server.live.relays import Relays

QUEUE_SIZE = 1000


@dataclass(frozen=True)
class Event:
    """One published event: its number, its kind and its model's JSON (`data`)."""

    id: int
    kind: str
    data: dict[str, Any]


class Subscription:
    """One listener's queue; iterate with `await sub.get()`."""

    def __init__(self, bus: EventBus, loop: asyncio.AbstractEventLoop) -> None:
        self._bus = bus
        self.loop = loop
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)

    def _put(self, event: Event) -> None:  # on the loop
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def get(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after `timeout` seconds (for heartbeats)."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    def delivered(self) -> list[Event]:
        """The events already in the queue, taken without waiting (on the loop). Every
        event published before the caller resumed after a `to_thread` call is there."""
        events = []
        while not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events

    def close(self) -> None:
        self._bus._remove(self)


class EventBus:
    """Fan-out of live events to every subscriber, safe to publish from any thread."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        # also handed every event published here (not those relayed from elsewhere)
        self.relays: Relays[Event] = Relays()

    def subscribe(self) -> Subscription:
        """Call on the event loop that will read the subscription."""
        sub = Subscription(self, asyncio.get_running_loop())
        with self._lock:
            self._subs.append(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, event: LiveEvent) -> None:
        """Hand the event to every subscriber (call after the commit that made it true)."""
        kind = getattr(event, "KIND", None)
        if kind not in KINDS:
            raise TypeError(f"not a live event: {event!r}")
        published = Event(next(self._ids), event.KIND, event.model_dump(mode="json"))
        self._fan_out(published)
        self.relays(published)

    def publish_relayed(self, kind: str, data: dict[str, Any]) -> None:
        """An event another replica published: to this replica's subscribers only."""
        if kind not in KINDS:
            raise TypeError(f"not a live event kind: {kind!r}")
        self._fan_out(Event(next(self._ids), kind, data))

    def publish_all(self, events: Iterable[LiveEvent]) -> None:
        for event in events:
            self.publish(event)

    def _fan_out(self, event: Event) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub._put, event)
            except RuntimeError:  # its loop is closed: the client is gone
                self._remove(sub)

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._subs)
