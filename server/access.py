"""The door path's domain service: decide a tap, record it, and record what the door did.

Knows nothing of MQTT: the ingest adapter hands it parsed messages and an `answer`
callable that publishes a Decision."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from protocol.cards import card_hash
from protocol.decide import Outcome, decide
from protocol.messages import Decision, Reason, Result, Status, Tap, format_time
from server import devices, models
from server.bookings import insert_booking
from server.checkin import check_in
from server.errors import Conflict
from server.events import EventBus
from server.policy import PolicyCache
from server.site import SiteConfig

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class TapFate(StrEnum):
    ANSWERED = "answered"
    DUPLICATE = "duplicate"
    EXPIRED = "expired"
    UNKNOWN_DEVICE = "unknown_device"


@dataclass
class DoorPathCounters:
    unknown_device_taps: int = 0
    duplicates: int = 0
    expired: int = 0
    answered: int = 0
    invalid: int = 0


def display_name(name: str) -> str:
    """What a door's display may show: `Anna Kowalska` → `Anna K.`."""
    parts = name.split()
    if len(parts) < 2:
        return name[:40]
    return f"{parts[0]} {parts[-1][0]}."


@dataclass
class AccessService:
    """Decides taps from the policy snapshot and keeps the access log, one row per tap."""

    site: SiteConfig
    writes: sessionmaker[Session]
    policy: PolicyCache
    card_key: str
    clock: Clock
    events: EventBus = field(default_factory=EventBus)
    counters: DoorPathCounters = field(default_factory=DoorPathCounters)
    _clock_synced: dict[str, bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle_tap(self, device_id: str, tap: Tap, answer: Callable[[Decision], object]) -> TapFate:
        """Decide and record one tap; `answer` publishes the decision.

        A repeated (device, id) is a no-op. A replayed tap, or one older than the door's
        decision timeout from a device whose clock is synced, is recorded as expired and
        never answered: the door has given up on it already. A decision that changes
        nothing is answered at once and recorded right after; a grant that checks a
        booking in or creates a walk-in is committed first and answered after, so a door
        never opens on a check-in that a release beat."""
        now = self.clock()
        device = self.site.device(device_id)
        if device is None:
            self.counters.unknown_device_taps += 1
            log.warning("tap %s from unknown device %r: not answered", tap.id, device_id)
            return TapFate.UNKNOWN_DEVICE
        with self._lock, self.writes() as session:
            with session.begin():
                if _find(session, device_id, tap.id) is not None:
                    self.counters.duplicates += 1
                    return TapFate.DUPLICATE
                event = models.AccessEvent(
                    device_id=device_id,
                    event_id=tap.id,
                    door_id=device.door,
                    ts=tap.ts,
                    received=now,
                    card_hash=card_hash(self.card_key, tap.card),
                    replay=tap.replay,
                )
                session.add(event)
                if tap.replay or self._stale(device_id, tap, now):
                    event.by = "expired"
                    self.counters.expired += 1
                    return TapFate.EXPIRED
                outcome = self._decide(session, device_id, event.card_hash, now)  # type: ignore[arg-type]
                decision = self._decision(session, tap, outcome)
                if outcome.effect is None:
                    answer(decision)
                event.granted = outcome.granted
                event.reason = outcome.reason
                event.member_id = outcome.member_id
                event.by = "server"
            if outcome.effect is not None:
                answer(decision)
        self.counters.answered += 1
        self.events.publish("access", access_event(event, member_name=decision.name))
        if outcome.effect is not None:
            self.events.publish("booking", {"room_id": outcome.room, "change": outcome.effect})
        return TapFate.ANSWERED

    def _decide(self, session: Session, device_id: str, hashed: str, now: datetime) -> Outcome:
        """Decide, and apply the state change a grant implies. Should the booking have
        changed under us (another replica's release), decide again on the fresh state."""
        for _ in range(2):
            outcome = decide(self.policy.get(session, now), device_id, hashed, now)
            if outcome.effect is None or self._apply(session, outcome, now):
                return outcome
        log.warning("booking state kept changing under tap at %s: refused", device_id)
        return replace(outcome, granted=False, reason=Reason.NO_ACCESS, effect=None)

    def _apply(self, session: Session, outcome: Outcome, now: datetime) -> bool:
        if outcome.effect == "check_in" and outcome.booking_id is not None:
            return check_in(session, booking_id=outcome.booking_id, now=now)
        if outcome.effect == "walk_in" and outcome.room and outcome.until and outcome.member_id:
            try:
                with session.begin_nested():
                    booking = insert_booking(
                        session,
                        site=self.site,
                        room_id=outcome.room,
                        member_id=outcome.member_id,
                        start=now,
                        end=outcome.until,
                        now=now,
                        title="Walk-in",
                        status="checked_in",
                        source="walk_in",
                    )
                    booking.checked_in_at = now
            except Conflict:
                return False
            return True
        return False

    def _decision(self, session: Session, tap: Tap, outcome: Outcome) -> Decision:
        member = session.get(models.Member, outcome.member_id) if outcome.member_id else None
        return Decision(
            id=tap.id,
            granted=outcome.granted,
            reason=outcome.reason,
            unlock_s=outcome.unlock_s,
            by="server",
            reader=tap.reader,
            name=display_name(member.name) if member and outcome.granted else None,
        )

    def _stale(self, device_id: str, tap: Tap, now: datetime) -> bool:
        if not self._clock_synced.get(device_id, False):
            return False
        return now - tap.ts > timedelta(seconds=self.site.access.decision_timeout)

    def handle_result(self, device_id: str, result: Result) -> bool:
        """Record what the door did with a tap; False when already recorded."""
        now = self.clock()
        if self.site.device(device_id) is None:
            log.warning("result from unknown device %r ignored", device_id)
            return False
        with self._lock, self.writes() as session, session.begin():
            event = _find(session, device_id, result.tap)
            if event is None:
                # The result overtook its tap (or the tap was lost): the door's word stands,
                # and the tap, when it comes, is a duplicate and is not answered.
                event = models.AccessEvent(
                    device_id=device_id,
                    event_id=result.tap,
                    door_id=self.site.device(device_id).door,  # type: ignore[union-attr]
                    received=now,
                    granted=result.granted,
                    reason=result.reason,
                    by=result.applied if result.applied != "none" else "expired",
                )
                session.add(event)
            elif event.result_id is not None:
                return False
            event.result_id = result.id
            event.result_applied = result.applied
            event.result_granted = result.granted
            event.result_at = now
            return True

    def handle_status(self, device_id: str, status: Status) -> None:
        """A device's retained status or heartbeat: online, last seen, clock synced; a
        `device` event when that makes it go on- or offline."""
        site_device = self.site.device(device_id)
        if site_device is None:
            return
        self._clock_synced[device_id] = status.clock_synced
        now = self.clock()
        with self.writes() as session, session.begin():
            device = session.get(models.Device, device_id)
            if device is None:
                return
            was_online = devices.device_online(device, now)
            device.online = status.state == "online"
            device.last_seen = min(status.ts, now)  # a retained status may be old
            device.clock_synced = status.clock_synced
            device.status = status.model_dump(mode="json")
        if devices.device_online(device, now) != was_online:
            self.events.publish("device", devices.device_event(site_device, device, now=now))


def access_event(event: models.AccessEvent, *, member_name: str | None = None) -> dict:
    """An access-log row as the API and the live stream show it (door's Result first)."""
    granted, by = event.granted, event.by
    if event.result_applied is not None:
        granted = bool(event.result_granted)
        by = "expired" if event.result_applied == "none" else event.result_applied
    return {
        "id": event.event_id,
        "device": event.device_id,
        "door": event.door_id,
        "ts": event.ts and format_time(event.ts),
        "received": format_time(event.received),
        "granted": granted,
        "reason": event.reason,
        "by": by,
        "member_id": event.member_id,
        "name": member_name,
    }


def _find(session: Session, device_id: str, event_id: str) -> models.AccessEvent | None:
    return session.scalars(
        select(models.AccessEvent).where(
            models.AccessEvent.device_id == device_id, models.AccessEvent.event_id == event_id
        )
    ).first()
