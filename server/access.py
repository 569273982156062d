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

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from protocol.cards import card_hash
from protocol.decide import Outcome, decide
from protocol.messages import Decision, Reason, Result, Status, Tap, format_time
from protocol.policy import PolicySnapshot
from server import devices, emergency, models, policy
from server.bookings import insert_booking, overlapping
from server.checkin import check_in
from server.errors import Conflict
from server.events import EventBus
from server.policy import PolicyCache, build_snapshot
from server.release import remove_strike_for_booking
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
    gateway_decisions: int = 0  # decisions of the gateway recorded (first time each)


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
    # Staff cards known to have every door's emergency hash, as of a policy version (any
    # change that could take hashes away moves the version on).
    _hashed: tuple[tuple[str, int], set[str]] = (("", -1), set())

    def handle_tap(self, device_id: str, tap: Tap, answer: Callable[[Decision], object]) -> TapFate:
        """Decide and record one tap; `answer` publishes the decision.

        A repeated (device, id) is a no-op, and so is a tap the gateway's decision or the
        door's Result came before: it is never answered, it only completes the row (card,
        time) and what the Result implies. A replayed tap, or one from a device whose clock
        is synced that is too old to answer (`_stale`), is recorded as expired and never
        answered: the door has given up on it, or will before an answer reaches it. A
        decision that changes nothing is answered at once and recorded right after; a
        grant that checks a booking in or creates a walk-in is committed first and
        answered after, so a door never opens on a check-in that a release beat."""
        now = self.clock()
        device = self.site.device(device_id)
        if device is None:
            self.counters.unknown_device_taps += 1
            log.warning("tap %s from unknown device %r: not answered", tap.id, device_id)
            return TapFate.UNKNOWN_DEVICE
        hashed = card_hash(self.card_key, tap.card)
        outcome: Outcome | None = None
        decision: Decision | None = None
        snapshot: PolicySnapshot | None = None
        changes: list[dict] = []
        with self._lock, self.writes() as session:
            with session.begin():
                event = _find(session, device_id, tap.id)
                if event is not None:
                    fate = TapFate.DUPLICATE
                    completed = event.card_hash is None
                    if completed:  # the gateway's decision or the door's Result came first
                        changes = self._complete(session, event, tap, hashed, now)
                else:
                    event = models.AccessEvent(
                        device_id=device_id,
                        event_id=tap.id,
                        door_id=device.door,
                        ts=tap.ts,
                        received=now,
                        card_hash=hashed,
                        replay=tap.replay,
                    )
                    session.add(event)
                    if tap.replay or self._stale(session, device_id, tap, now):
                        event.by = "expired"
                        event.member_id = _member_of(session, hashed)
                        fate = TapFate.EXPIRED
                    else:
                        outcome, snapshot = self._decide(session, device_id, hashed, now)
                        decision = self._decision(session, tap, outcome)
                        if outcome.effect is None:
                            answer(decision)
                        event.granted = outcome.granted
                        event.reason = outcome.reason
                        event.member_id = outcome.member_id
                        event.by = "server"
                        if outcome.effect is not None:
                            event.booking_id = outcome.booking_id
                        fate = TapFate.ANSWERED
                self._remember_emergency(session, hashed, tap.card, snapshot)
            if outcome is not None and decision is not None and outcome.effect is not None:
                answer(decision)
        if fate is TapFate.DUPLICATE:
            self.counters.duplicates += 1
            if completed:
                self._publish(event, changes)
            return fate
        if fate is TapFate.EXPIRED:
            self.counters.expired += 1
            self._publish(event, [])
            return fate
        assert outcome is not None and decision is not None
        self.counters.answered += 1
        self.events.publish("access", access_event(event, member_name=decision.name))
        if outcome.effect is not None:
            self.events.publish("booking", {"room_id": outcome.room, "change": outcome.effect})
        return fate

    def _complete(
        self, session: Session, event: models.AccessEvent, tap: Tap, hashed: str, now: datetime
    ) -> list[dict]:
        """The tap of a row the gateway's decision or the door's Result made: fill in the
        card and times, then apply what a Result already there implies."""
        event.ts = tap.ts
        event.card_hash = hashed
        event.replay = tap.replay
        if event.member_id is None:
            event.member_id = _member_of(session, hashed)
        return reconcile(session, site=self.site, event=event, now=now)

    def _decide(
        self, session: Session, device_id: str, hashed: str, now: datetime
    ) -> tuple[Outcome, PolicySnapshot]:
        """Decide, and apply the state change a grant implies (the outcome's `booking_id`
        is then the booking changed). Should the booking have changed under us (another
        replica's release), decide again on the fresh state."""
        for _ in range(2):
            snapshot = self.policy.get(session, now)
            outcome = decide(snapshot, device_id, hashed, now)
            if outcome.effect is None:
                return outcome, snapshot
            booking_id = apply_effect(session, site=self.site, outcome=outcome, at=now)
            if booking_id is not None:
                return replace(outcome, booking_id=booking_id), snapshot
        log.warning("booking state kept changing under tap at %s: refused", device_id)
        return replace(outcome, granted=False, reason=Reason.NO_ACCESS, effect=None), snapshot

    def _remember_emergency(
        self, session: Session, hashed: str, uid: str, snapshot: PolicySnapshot | None
    ) -> None:
        """The UID is in hand only now: a staff card gets any emergency hash it lacks.

        With the snapshot the tap was decided from, only a staff card not yet seen
        complete at this policy version costs a look at the database."""
        if snapshot is not None:
            card = snapshot.cards.get(hashed)
            member = snapshot.members.get(card.member_id) if card is not None else None
            if card is None or not card.active or member is None or member.category != "staff":
                return
            version, seen = self._hashed
            if version != (snapshot.epoch, snapshot.n):
                version, seen = self._hashed = ((snapshot.epoch, snapshot.n), set())
            if hashed in seen:
                return
        if emergency.remember_tap(session, uid_hash=hashed, uid=uid):
            policy.bump(session)
        elif snapshot is not None:
            seen.add(hashed)

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

    def _stale(self, session: Session, device_id: str, tap: Tap, now: datetime) -> bool:
        """Whether a tap is older than the door's decision timeout less the gateway's
        takeover time. A server that far behind (catching up on a backlog) might not get
        an answer to the door before it gives up, and would commit a check-in for a door
        that stays shut; and the gateway, if it is up, has answered the tap by then."""
        synced = self._clock_synced.get(device_id)
        if synced is None:
            # Not heard since this process started (a restart, with a backlog of taps to
            # go through before the retained statuses): what the device last said.
            row = session.get(models.Device, device_id)
            synced = row is not None and row.last_seen is not None and row.clock_synced
            self._clock_synced[device_id] = synced
        if not synced:
            return False
        rules = self.site.access
        return now - tap.ts > timedelta(seconds=rules.decision_timeout - rules.gateway_takeover)

    def handle_decision(self, device_id: str, decision: Decision) -> bool:
        """Record a decision the gateway sent a door; False for the server's own (recorded
        when made), for one already recorded and for an unknown device.

        When nobody had answered the tap (not seen yet, or expired), the gateway's decision
        is the tap's; when the server had answered too (it was slow), the server's stays
        the decision of record and the gateway's is kept beside it, until the door's
        Result says which one it applied."""
        if decision.by != "gateway":
            return False
        device = self.site.device(device_id)
        if device is None:
            log.warning("decision for unknown device %r ignored", device_id)
            return False
        now = self.clock()
        with self._lock, self.writes() as session, session.begin():
            event = _find(session, device_id, decision.id)
            if event is None:
                # The tap is still to come (or lost): it will be a duplicate, unanswered.
                event = models.AccessEvent(
                    device_id=device_id, event_id=decision.id, door_id=device.door, received=now
                )
                session.add(event)
            if event.by in (None, "expired"):
                event.by, event.granted, event.reason = "gateway", decision.granted, decision.reason
            elif event.by == "gateway" or event.other_by == "gateway":
                if event.reason is not None:
                    return False  # recorded already (or the door's Result said as much)
                event.reason = decision.reason
            else:
                event.other_by = "gateway"
                event.other_granted, event.other_reason = decision.granted, decision.reason
        self.counters.gateway_decisions += 1
        self._publish(event, [])
        return True

    def handle_result(self, device_id: str, result: Result) -> bool:
        """Record what the door did with a tap: the decision it applied becomes the one of
        record, a check-in or walk-in committed for a grant it did not apply is undone
        (`undo_effect`), and what a grant it applied implies is applied (`reconcile`).
        False when already recorded."""
        now = self.clock()
        device = self.site.device(device_id)
        if device is None:
            log.warning("result from unknown device %r ignored", device_id)
            return False
        with self._lock, self.writes() as session, session.begin():
            event = _find(session, device_id, result.tap)
            if event is None:
                # The result overtook its tap (or the tap was lost): the door's word
                # stands, and the tap, when it comes, is a duplicate and not answered.
                event = models.AccessEvent(
                    device_id=device_id,
                    event_id=result.tap,
                    door_id=device.door,
                    received=now,
                    granted=result.granted,
                    reason=result.reason,
                    by=result.applied if result.applied != "none" else "expired",
                )
                session.add(event)
            elif event.result_id is not None:
                return False
            else:
                _follow_result(event, result)
            event.result_id = result.id
            event.result_applied = result.applied
            event.result_granted = result.granted
            event.result_at = now
            changes = undo_effect(session, event=event, now=now) if not result.granted else []
            changes += reconcile(
                session, site=self.site, event=event, now=now, applied_reason=result.reason
            )
        self._publish(event, changes)
        return True

    def _publish(self, event: models.AccessEvent, changes: list[dict]) -> None:
        """After the commit: the row's new state and the bookings reconciling changed."""
        self.events.publish("access", access_event(event))
        for change in changes:
            self.events.publish("booking", change)

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


def apply_effect(
    session: Session, *, site: SiteConfig, outcome: Outcome, at: datetime
) -> int | None:
    """Commit the state change a grant implies, as of `at`: check the booking in, or book
    the free room as a walk-in from `at`; the booking's id. None when the booking is no
    longer `booked` or the room is no longer free."""
    if outcome.effect == "check_in" and outcome.booking_id is not None:
        done = check_in(session, booking_id=outcome.booking_id, now=at)
        return outcome.booking_id if done else None
    if outcome.effect == "walk_in" and outcome.room and outcome.until and outcome.member_id:
        try:
            with session.begin_nested():
                booking = insert_booking(
                    session,
                    site=site,
                    room_id=outcome.room,
                    member_id=outcome.member_id,
                    start=at,
                    end=outcome.until,
                    now=at,
                    title="Walk-in",
                    status="checked_in",
                    source="walk_in",
                )
                booking.checked_in_at = at
        except Conflict:
            return None
        return booking.id
    return None


# -- reconciliation: what a door did, learnt from its Result ----------------------------


def reconcile(
    session: Session,
    *,
    site: SiteConfig,
    event: models.AccessEvent,
    now: datetime,
    applied_reason: str | None = None,
) -> list[dict]:
    """Apply what a grant the door applied implies, once its Result and its tap (card,
    time) are both recorded; the `booking` events to publish after the commit.

    A gateway's grant at a room's door checks the booking in, or takes the free room as a
    walk-in (when that is what the gateway granted), as of the tap's time, as the server
    would have (`decide()` over the state at that time, as far as the database tells);
    the server applied its own grants already, and the entrance implies neither.
    Any applied grant shows that a holder whose booking was released arrived in time
    (`arrived_in_time`). `applied_reason`: the reason of the decision the door applied,
    as its Result says."""
    if not event.result_granted or event.result_applied not in ("server", "gateway"):
        return []
    if event.card_hash is None or event.ts is None:
        return []  # done when the tap arrives
    device = site.device(event.device_id)
    member_id = _member_of(session, event.card_hash)
    if device is None or device.door is None or member_id is None:
        return []
    room = site.room(device.room)
    changes: list[dict] = []
    if event.result_applied == "gateway" and room is not None and room.kind != "entrance":
        snapshot = snapshot_as_of(session, site=site, device_id=device.id, at=event.ts)
        outcome = decide(snapshot, device.id, event.card_hash, event.ts)
        granted_reason = applied_reason or event.reason
        wanted = outcome.effect == "check_in" or (
            outcome.effect == "walk_in" and granted_reason in (None, Reason.WALK_IN)
        )
        booking_id = None
        if outcome.granted and wanted:
            booking_id = apply_effect(session, site=site, outcome=outcome, at=event.ts)
        if booking_id is not None:
            event.booking_id = booking_id
            changes.append({"id": booking_id, "room_id": outcome.room, "change": outcome.effect})
    changes += arrived_in_time(
        session, site=site, member_id=member_id, room_id=device.room, at=event.ts, now=now
    )
    return changes


def _follow_result(event: models.AccessEvent, result: Result) -> None:
    """Make the decision the door applied the one of record; the other one is kept."""
    applied = result.applied
    if applied == "none" or event.by == applied:
        return
    if event.by in (None, "expired"):
        event.by, event.granted = applied, result.granted
        event.reason = result.reason or event.reason
        return
    mine = (event.by, event.granted, event.reason)
    if event.other_by == applied:
        event.by, event.granted, event.reason = (
            event.other_by,
            bool(event.other_granted),
            event.other_reason,
        )
    else:  # its decision has not reached the server (yet): the door's word for it
        event.by, event.granted, event.reason = applied, result.granted, result.reason
    event.other_by, event.other_granted, event.other_reason = mine


def undo_effect(session: Session, *, event: models.AccessEvent, now: datetime) -> list[dict]:
    """The door stayed shut on a tap whose grant the server had committed a state change
    for (a slow server's grant, while the door applied the gateway's denial, or nothing in
    time): undo it, since check-ins follow what the doors did. A walk-in booked by that
    grant is cancelled; a booking it checked in is `booked` again, unless someone the
    booking admits has been let in at that door since."""
    booking = session.get(models.Booking, event.booking_id) if event.booking_id else None
    if booking is None or booking.checked_in_at != event.received:
        return []  # nothing this tap did, or something changed it since
    B = models.Booking
    if booking.source == "walk_in" and booking.start == event.received:
        values: dict = {"status": "cancelled", "cancelled_at": now}
        change = "cancelled"
    elif _let_in_since(session, event, [booking.member_id, *booking.attendee_ids]):
        return []
    else:
        values, change = {"status": "booked", "checked_in_at": None}, "check_in_undone"
    done = session.execute(
        update(B)
        .where(B.id == booking.id, B.status == "checked_in", B.checked_in_at == event.received)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return []
    event.booking_id = None
    policy.bump(session)
    return [{"id": booking.id, "room_id": booking.room_id, "change": change}]


def _let_in_since(session: Session, event: models.AccessEvent, member_ids: list[int]) -> bool:
    """Whether any of these members was let in at the event's door after it."""
    A = models.AccessEvent
    opened = or_(A.result_granted.is_(True), (A.result_applied.is_(None) & A.granted.is_(True)))
    stmt = select(A.id).where(
        A.door_id == event.door_id,
        A.id != event.id,
        A.received >= event.received,
        A.member_id.in_(member_ids),
        opened,
    )
    return session.scalar(stmt.limit(1)) is not None


def snapshot_as_of(
    session: Session, *, site: SiteConfig, device_id: str, at: datetime
) -> PolicySnapshot:
    """The policy snapshot as it stood at `at`, as far as the database tells: bookings
    released or checked in after `at` were still `booked` then. The door is in normal
    mode: it opened, whatever its mode is now."""
    snapshot = build_snapshot(session, site, at)
    ids = [b.id for b in snapshot.bookings if b.status != "booked"]
    B = models.Booking
    later = set(
        session.scalars(
            select(B.id).where(
                B.id.in_(ids),
                ((B.status == "released") & (B.released_at > at))
                | ((B.status == "checked_in") & (B.checked_in_at > at)),
            )
        )
    )
    bookings = [
        b.model_copy(update={"status": "booked"}) if b.id in later else b for b in snapshot.bookings
    ]
    doors = dict(snapshot.doors)
    if device_id in doors:
        doors[device_id] = doors[device_id].model_copy(update={"mode": "normal"})
    return snapshot.model_copy(update={"bookings": bookings, "doors": doors})


def arrived_in_time(
    session: Session, *, site: SiteConfig, member_id: int, room_id: str, at: datetime, now: datetime
) -> list[dict]:
    """A grant applied at `at` to a member at a room's door (or the entrance) inside the
    check-in window of a booking that was released all the same (the grant was learnt
    too late): its no-show strike is removed, and at the room's door the booking is
    checked in again, as of `at`, if no other booking took the room meanwhile.

    At the room's door anyone the booking admits counts (their tap would have checked it
    in); at the entrance only its holder, and the booking stays released."""
    room = site.room(room_id)
    entrance = room is not None and room.kind == "entrance"
    early = timedelta(seconds=site.access.early_entry)
    grace = timedelta(seconds=site.access.no_show_grace)
    B = models.Booking
    whose = B.member_id == member_id if entrance else B.room_id == room_id
    stmt = select(B).where(
        whose, B.status == "released", B.start <= at + early, B.start > at - grace
    )
    changes: list[dict] = []
    for booking in session.scalars(stmt.order_by(B.start, B.id)):
        if booking.member_id != member_id and member_id not in booking.attendee_ids:
            continue
        change = None
        if _has_strike(session, booking.id):
            remove_strike_for_booking(session, site=site, booking_id=booking.id, now=now)
            change = "strike_removed"
        if not entrance and _reinstate(session, booking, at):
            change = "check_in"
        if change is not None:
            changes.append({"id": booking.id, "room_id": booking.room_id, "change": change})
    return changes


def _has_strike(session: Session, booking_id: int) -> bool:
    N = models.NoShow
    stmt = select(N.id).where(N.booking_id == booking_id, N.removed_at.is_(None))
    return session.scalar(stmt) is not None


def _reinstate(session: Session, booking: models.Booking, at: datetime) -> bool:
    """`released -> checked_in` as of `at`, as one conditional UPDATE, unless another
    booking holds part of the rest of the slot."""
    start = max(at, booking.start)
    if start < booking.end and overlapping(
        session, room_id=booking.room_id, start=start, end=booking.end, exclude_id=booking.id
    ):
        return False
    B = models.Booking
    done = session.execute(
        update(B)
        .where(B.id == booking.id, B.status == "released")
        .values(status="checked_in", checked_in_at=at)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return False
    policy.bump(session)
    return True


def _member_of(session: Session, hashed: str) -> int | None:
    """The member holding the card of this hash (revoked or not), if it is known."""
    return session.scalar(select(models.Card.member_id).where(models.Card.uid_hash == hashed))


def _find(session: Session, device_id: str, event_id: str) -> models.AccessEvent | None:
    return session.scalars(
        select(models.AccessEvent).where(
            models.AccessEvent.device_id == device_id, models.AccessEvent.event_id == event_id
        )
    ).first()
