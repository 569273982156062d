"""Where a replica's in-memory state is also sent, for the other replicas to follow
(server.adapters.live_relay): live events, unknown cards, tap counts.

    relays: Relays[UnknownTap] = Relays()
    relays.add(queue_it)   # e.g. the relay's queue (called on the caller's thread)
    relays(tap)            # hands `tap` to each
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Relays(Generic[T]):
    """The callables an item is also handed to; each must only queue it."""

    def __init__(self) -> None:
        self._to: list[Callable[[T], object]] = []

    def add(self, relay: Callable[[T], object]) -> None:
        self._to.append(relay)

    def __call__(self, item: T) -> None:
        for relay in self._to:
            relay(item)
