"""The door path's domain service: decide a tap, record it, and record what the door did.

Knows nothing of MQTT: the ingest adapter hands it parsed messages and an `answer`
callable that publishes a Decision. A message it refuses raises `Rejected` (it can never
apply: counted and acknowledged) or `NotYet` (it may apply once an earlier message has: a
Result whose tap is still on its way). What a door did, and what that implies for
bookings, is in `server.access.reconcile`; the tap limits in `server.access.limiter`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from protocol.cards import card_hash
from protocol.decide import Outcome, decide
from protocol.messages import Decision, Reason, Result, Status, Tap
from protocol.policy import PolicySnapshot
from server.access.accesslog import access_event, display_name, member_name
from server.access.aftertap import AfterTap
from server.access.fates import GATEWAY, DoorPathCounters, FirstLook, TapFate
from server.access.limiter import Limiter
from server.access.looks import Looks
from server.access.lookup import TapLookup
from server.access.reconcile import (
    apply_effect,
    complete_row,
    find_event,
    follow_result,
    member_of,
    reconcile,
    record_gateway,
    server_answered_too,
    tap_row,
    undo_effect,
)
from server.access.snapshot import PolicyCache
from server.access.unknown_cards import RecentUnknownCards
from server.db import models
from server.errors import NotYet, Rejected
from server.live.events import EventBus
from server.live.kinds import AccessEvent, BookingEvent, DeviceStatusEvent
from server.monitoring import device_status
from server.site import Device, SiteConfig

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Answer = Callable[[Decision], object]  # publishes a decision to the door


@dataclass(repr=False)  # its repr would show the card key in a logged traceback
class AccessService:
    """Decides taps from the policy snapshot and keeps the access log, one row per tap."""

    site: SiteConfig
    writes: sessionmaker[Session]
    policy: PolicyCache
    card_key: str
    clock: Clock
    # Sessions that only read (never SQLite's write lock): taps are decided from them.
    reads: sessionmaker[Session]
    events: EventBus = field(default_factory=EventBus)
    counters: DoorPathCounters = field(default_factory=DoorPathCounters)
    # Unknown cards tapped lately, per reader: the reception desk offers them for enrolment.
    unknown_cards: RecentUnknownCards = field(default_factory=RecentUnknownCards)
    # The tap limits' clock (seconds, monotonic); tests move it.
    monotonic: Callable[[], float] = time.monotonic
    _clock_synced: dict[str, bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # The snapshot the latest tap was decided from: the tap limits read it without the
    # database (a card registered since counts as unknown until the next decided tap).
    _snapshot: PolicySnapshot | None = None
    # First looks taken as taps arrived (`look`), for `handle_tap` to record.
    looks: Looks = field(default_factory=Looks)

    def __post_init__(self) -> None:
        self.lookup = TapLookup(self.reads.kw["bind"])  # on the engine the reads use
        self.after = AfterTap(self.writes, self.events, self.clock)
        self.limiter = Limiter(
            site=self.site,
            after=self.after,
            counts=self.counters.limited,
            monotonic=lambda: self.monotonic(),
        )

    def handle_tap(self, device_id: str, tap: Tap, answer: Answer) -> TapFate:
        """Decide and record one tap; `answer` publishes the decision.

        A tap past the tap limits is answered `too_many_attempts` from memory, with no
        row. A repeated (device, id) is a no-op; a tap the gateway's decision came before
        only completes the row (card, time), with the server's decision of record if it
        had answered already (`look`). A replayed tap, or a synced device's tap too old to
        answer (`_stale`), is recorded expired, never answered. A decision that changes
        nothing is sent by `_look`, never behind the write lock; a grant that checks a
        booking in or creates a walk-in is committed first and answered after (a door
        never opens on a check-in a release beat), its age judged once its transaction
        holds the write lock. A tap `look` has looked at is answered from that look."""
        try:
            return self._record(device_id, tap, answer)
        finally:
            self.looks.forget((device_id, tap.id))

    def _record(self, device_id: str, tap: Tap, answer: Answer) -> TapFate:
        first = self.looks.get((device_id, tap.id)) or self._look(device_id, tap, answer)
        if first.limited:
            return TapFate.LIMITED
        device, hashed, now, early = first.device, first.hashed, first.now, first.early
        outcome: Outcome | None = None
        decision: Decision | None = None
        changes: list[BookingEvent] = []
        with self._lock, self.writes() as session:
            with session.begin():
                event = find_event(session, device_id, tap.id)
                if event is not None:
                    fate = TapFate.DUPLICATE
                    completed = event.card_hash is None
                    if completed:  # the gateway's decision came first
                        if early is not None:  # yet the server answered first: it stands
                            (outcome, decision), fate = early, TapFate.ANSWERED
                            server_answered_too(event, outcome)
                        changes = complete_row(session, self.site, event, tap, hashed, now)
                else:
                    # Judge the tap's age now: a writer's transaction holds the write lock
                    # from its first statement (server.db.engine), so a wait for another
                    # writer counts against the door. The row is received then, the time
                    # its grant's change is made at (undone by that time should the door
                    # stay shut: `undo_effect`).
                    now = self.clock()
                    event = tap_row(device, tap, hashed, now)
                    session.add(event)
                    if early is None and (tap.replay or self._stale(device_id, tap, now)):
                        event.by = "expired"
                        event.member_id = member_of(session, hashed)
                        fate = TapFate.EXPIRED
                    else:
                        if early is not None:  # answered already, in time
                            outcome, decision = early
                        else:
                            outcome, changed = self._decide(session, device_id, hashed, now)
                            changes = [changed] if changed is not None else []
                            decision = self._decision(
                                tap, outcome, member_name(session, outcome.member_id)
                            )
                            if outcome.effect is None:
                                answer(decision)
                        event.granted = outcome.granted
                        event.reason = outcome.reason
                        event.member_id = outcome.member_id
                        event.by = "server"
                        if outcome.effect is not None:
                            event.booking_id = outcome.booking_id
                        fate = TapFate.ANSWERED
            if outcome is not None and decision is not None and outcome.effect is not None:
                answer(decision)
        if early is None:  # else counted by `_look`
            self._after_tap(device, tap, hashed, outcome)
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
        self._publish(event, changes, member_name=decision.name)
        return fate

    def look(self, device_id: str, tap: Tap, answer: Answer) -> None:
        """Take a tap's first look (`_look`: its answer, when it changes nothing, sent now)
        as it arrives, for `handle_tap` to record it later: the door path's adapter looks
        on its network thread and records on another, so that no write delays an answer.
        A copy of a tap under way is not looked at (its `handle_tap` finds the row)."""
        self.looks.take((device_id, tap.id), lambda: self._look(device_id, tap, answer))

    def _look(self, device_id: str, tap: Tap, answer: Answer) -> FirstLook:
        """A tap's first look, with no write: the tap limits (`too_many_attempts` sent at
        once), then a decision that changes nothing, decided from a read and sent. Nothing
        is sent for a tap recorded already, a stale or replayed one, or a grant with an
        effect. Rejected for a device the site does not know."""
        now = self.clock()
        device = self.site.device(device_id)
        if device is None:
            self.counters.unknown_device_taps += 1
            raise Rejected("unknown_device", f"tap {tap.id} from unknown device {device_id!r}")
        hashed = card_hash(self.card_key, tap.card)
        if self._refused(device, tap, hashed, now, answer):
            return FirstLook(device, hashed, now, limited=True)
        if tap.replay:
            return FirstLook(device, hashed, now)
        looked = self.lookup(device_id, tap.id, hashed)  # one round trip, no session
        now = self.clock()
        if looked.recorded or self._stale(device_id, tap, now):
            return FirstLook(device, hashed, now)
        outcome = decide(self._snapshot_now(now, looked.version), device_id, hashed, now)
        if outcome.effect is not None:
            return FirstLook(device, hashed, now)
        decision = self._decision(tap, outcome, looked.name_of(outcome.member_id))
        answer(decision)
        self._after_tap(device, tap, hashed, outcome)
        return FirstLook(device, hashed, now, early=(outcome, decision))

    def _refused(
        self, device: Device, tap: Tap, hashed: str, now: datetime, answer: Answer
    ) -> bool:
        """Whether the tap is past the tap limits: refused from memory, and answered
        `too_many_attempts` unless it is replayed or past the door's bucket of answers
        (a flood's answer is decided only when it is sent)."""
        snapshot = self._snapshot or self._snapshot_now(now)  # else the first tap since start
        refused = self.limiter.refuse(snapshot, device, tap, hashed)
        if refused is None:
            return False
        _why, answered = refused
        if answered:
            outcome = decide(snapshot, device.id, hashed, now, blocked=True)
            answer(self._decision(tap, outcome, None))
        return True

    def _after_tap(self, device: Device, tap: Tap, hashed: str, outcome: Outcome | None) -> None:
        """Once the decision is out: count it against the card's limit; a staff card's
        missing emergency hashes are computed off this thread (its UID is in hand now)."""
        if outcome is not None:
            self.limiter.count(device, hashed, outcome)
            if outcome.reason == Reason.UNKNOWN_CARD:
                self.unknown_cards.add(device.id, hashed, at=self.clock())
        snapshot = self._snapshot
        if snapshot is None:
            return
        card = snapshot.cards.get(hashed)
        member = snapshot.members.get(card.member_id) if card is not None else None
        if card is not None and card.active and member is not None and member.category == "staff":
            self.after.staff_tapped(hashed, tap.card, version=(snapshot.epoch, snapshot.n))

    def _snapshot_now(
        self, now: datetime, current: tuple[str, int] | None = None, session: Session | None = None
    ) -> PolicySnapshot:
        """The current snapshot (of the stored version `current`, when it was read, from
        memory while the one held is of it); a new one brings its tap limits."""
        snapshot = self.policy.held(current, now) if current is not None else None
        if snapshot is None:
            with nullcontext(session) if session is not None else self.reads() as reading:
                snapshot = self.policy.get(reading, now, current)
        if snapshot is not self._snapshot:
            self.limiter.follow(snapshot.rules)
            self._snapshot = snapshot
        return snapshot

    def _decide(
        self, session: Session, device_id: str, hashed: str, now: datetime
    ) -> tuple[Outcome, BookingEvent | None]:
        """Decide, and apply the state change a grant implies (the outcome's `booking_id`
        is then the booking changed, and the change's event comes with it). Should the
        booking have changed under us (another replica's release), decide again on the
        fresh state."""
        for _ in range(2):
            snapshot = self._snapshot_now(now, session=session)
            outcome = decide(snapshot, device_id, hashed, now)
            if outcome.effect is None:
                return outcome, None
            done = apply_effect(session, site=self.site, outcome=outcome, at=now, by="tap")
            if done is not None:
                return replace(outcome, booking_id=done.booking_id), done
        log.warning("booking state kept changing under tap at %s: refused", device_id)
        return replace(outcome, granted=False, reason=Reason.NO_ACCESS, effect=None), None

    def _decision(self, tap: Tap, outcome: Outcome, name: str | None) -> Decision:
        """The Decision of an outcome; a grant shows the member's `name` (display_name)."""
        return Decision(
            id=tap.id,
            granted=outcome.granted,
            reason=outcome.reason,
            unlock_s=outcome.unlock_s,
            by="server",
            reader=tap.reader,
            name=display_name(name) if name and outcome.granted else None,
        )

    def _stale(self, device_id: str, tap: Tap, now: datetime) -> bool:
        """Whether a tap is older than the door's decision timeout less the gateway's
        takeover time. A server that far behind (catching up on a backlog) might not get
        an answer to the door before it gives up, and would commit a check-in for a door
        that stays shut; and the gateway, if it is up, has answered the tap by then."""
        synced = self._clock_synced.get(device_id)
        if synced is None:
            # Not heard since this process started (a restart, with a backlog of taps to
            # go through before the retained statuses): what the device last said.
            with self.reads() as session:
                row = session.get(models.Device, device_id)
                synced = row is not None and row.last_seen is not None and row.clock_synced
            self._clock_synced[device_id] = synced
        if not synced:
            return False
        rules = self.site.access
        return now - tap.ts > timedelta(seconds=rules.decision_timeout - rules.gateway_takeover)

    def handle_decision(self, device_id: str, decision: Decision) -> bool:
        """Record a decision the gateway sent a door; False for the server's own (recorded
        when made), for one already recorded, and for the gateway's `too_many_attempts`
        (not recorded on its own, as the server's are not). Rejected for an unknown device.

        When nobody had answered the tap (not seen yet, or expired), the gateway's decision
        is the tap's; when the server had answered too (it was slow), the server's stays
        the decision of record and the gateway's is kept beside it, until the door's
        Result says which one it applied."""
        if decision.by != "gateway":
            return False
        device = self.site.device(device_id)
        if device is None:
            raise Rejected("unknown_device", f"decision for unknown device {device_id!r}")
        if decision.reason == Reason.TOO_MANY_ATTEMPTS:
            # The gateway's tap limits answered from memory: during a flood it would cost
            # a row a junk tap here, and the door's Result still says what it did.
            self.counters.limited[(device_id, GATEWAY)] += 1
            return False
        now = self.clock()
        with self._lock, self.writes() as session, session.begin():
            event = record_gateway(session, device, decision, now)
        if event is None:
            return False  # recorded already (or the door's Result said as much)
        self.counters.gateway_decisions += 1
        self._publish(event, [])
        return True

    def handle_result(self, device_id: str, result: Result) -> bool:
        """Record what the door did with a tap it sent: the decision it applied becomes
        the one of record, a check-in or walk-in committed for a grant it did not apply is
        undone (`undo_effect`), and what a grant it applied implies is applied
        (`reconcile`). False when this Result is recorded already.

        A Result counts only for a tap this device sent, from the same boot when the tap
        carried one: NotYet while the tap is not recorded (it may be on its way);
        Rejected for another boot, for a tap whose Result says otherwise, and for an
        unknown device. A refused Result changes nothing."""
        now = self.clock()
        device = self.site.device(device_id)
        if device is None:
            raise Rejected("unknown_device", f"result from unknown device {device_id!r}")
        if self.limiter.refused(device_id, result.tap):
            raise Rejected("result_of_limited_tap", f"{device_id}: tap {result.tap} has no row")
        with self._lock, self.writes() as session, session.begin():
            event = find_event(session, device_id, result.tap)
            if event is None or event.card_hash is None:
                raise NotYet("result_without_tap", f"{device_id}: no tap {result.tap} (yet)")
            if event.boot is not None and result.boot != event.boot:
                raise Rejected("result_other_boot", f"{device_id}: result of another boot")
            if event.result_id is not None:
                said = (event.result_id, event.result_applied, event.result_granted)
                if said == (result.id, result.applied, result.granted):
                    return False
                raise Rejected("result_conflict", f"{device_id}: tap {result.tap} has a result")
            follow_result(event, result)
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

    def _publish(
        self,
        event: models.AccessEvent,
        changes: list[BookingEvent],
        *,
        member_name: str | None = None,
    ) -> None:
        """After the commit: the row's new state, then the bookings the tap changed."""
        device = self.site.device(event.device_id)
        shown = access_event(event, member_name=member_name)
        self.events.publish(AccessEvent(**shown, room_id=device.room if device else None))
        self.events.publish_all(changes)

    def handle_status(self, device_id: str, status: Status) -> None:
        """A device's retained status or heartbeat: online, last seen, clock synced, the
        mode a door applies; a `device` event when it goes on- or offline or its door
        reports another mode. Rejected for a device the site does not know."""
        site_device = self.site.device(device_id)
        if site_device is None:
            raise Rejected("unknown_device", f"status of unknown device {device_id!r}")
        self._clock_synced[device_id] = status.clock_synced
        now = self.clock()
        with self.writes() as session, session.begin():
            row, changed = device_status.record_status(session, device_id, status, now=now)
        if changed:
            shown = device_status.device_event(site_device, row, now=now)
            self.events.publish(DeviceStatusEvent(**shown))
