"""What became of each tap the door path handled, and its counters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from protocol.decide import Outcome
from protocol.messages import Decision
from server.site import Device

GATEWAY = "gateway"  # DoorPathCounters.limited: the gateway's `too_many_attempts`


class TapFate(StrEnum):
    ANSWERED = "answered"
    DUPLICATE = "duplicate"
    EXPIRED = "expired"
    LIMITED = "limited"  # refused `too_many_attempts` from memory, with no row of its own


@dataclass
class DoorPathCounters:
    unknown_device_taps: int = 0
    duplicates: int = 0
    expired: int = 0
    answered: int = 0
    invalid: int = 0
    gateway_decisions: int = 0  # decisions of the gateway recorded (first time each)
    # taps answered `too_many_attempts` from memory, by (device, why): `unknown_card_flood`
    # (the door's bucket of unknown cards is empty), `cooling_period` (the card's), or
    # `gateway` (the gateway's such decisions, not recorded)
    limited: Counter[tuple[str, str]] = field(default_factory=Counter)


@dataclass(frozen=True)
class FirstLook:
    """What a tap's first look (AccessService._look) found, before any write: the tap's
    card hash and time, whether it was answered `too_many_attempts`, and the decision
    sent when one that changes nothing was (its outcome and Decision)."""

    device: Device
    hashed: str
    now: datetime
    limited: bool = False
    early: tuple[Outcome, Decision] | None = None
