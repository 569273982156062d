"""The door controller's state machine on gpiozero mock pins, with a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from gpiozero.pins.mock import MockFactory
from support.clock import MonotonicClock as Clock

from devices.config import DoorConfig
from devices.door import DoorController, drive_idle
from protocol import topics
from protocol.messages import (
    Decision,
    DoorCommand,
    DoorEvent,
    DoorMode,
    EmergencyList,
    Message,
    Result,
    Tap,
    decode,
    encode,
)

STRIKE, GREEN, RED, BUZZER, CONTACT, EXIT, FIRE = 17, 27, 22, 23, 24, 25, 5
CARD = "04A1B2C3"
EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CONFIG = DoorConfig.model_validate(
    {
        "site": "piaseczno",
        "device": "reader-sala-a",
        "pins": {
            "strike": STRIKE,
            "green": GREEN,
            "red": RED,
            "buzzer": BUZZER,
            "contact": CONTACT,
            "exit": EXIT,
            "fire": FIRE,
        },
        "timing": {"unlock": "5s", "decision_timeout": "2s", "held_open": "30s"},
        "clock_synced": True,
    }
)


class Sent(list[tuple[str, Message, bool]]):
    """What the controller published, in order."""

    def __call__(self, topic: str, message: Message, retain: bool) -> None:
        # Round-trip through the wire format, so a payload that would not encode fails here.
        decode(type(message), encode(message))
        self.append((topic, message, retain))

    def of(self, kind: type[Message]) -> list[Message]:
        return [m for _, m, _ in self if isinstance(m, kind)]

    def results(self) -> list[Result]:
        return [m for m in self.of(Result) if isinstance(m, Result)]

    def events(self) -> list[str]:
        return [m.event for m in self.of(DoorEvent) if isinstance(m, DoorEvent)]


@pytest.fixture
def sent() -> Sent:
    return Sent()


@pytest.fixture
def door(factory: MockFactory, clock: Clock, sent: Sent) -> Iterator[DoorController]:
    controller = DoorController(
        CONFIG, pin_factory=factory, publish=sent, clock=clock, wallclock=clock.wall
    )
    try:
        drive_idle(factory, CONFIG.pins)  # door closed, no exit request, no fire alarm
        clock.now += 10  # some quiet time before the test starts
        sent.clear()
        yield controller
    finally:
        controller.close()


def high(factory: MockFactory, pin: int) -> bool:
    return bool(factory.pin(pin).state)


def tap(door: DoorController, clock: Clock) -> Tap:
    return door.card(CARD, clock.now)


def decide(tap_id: str, granted: bool = True, **extra: object) -> Decision:
    reason = "booking" if granted else "no_access"
    return Decision.model_validate({"id": tap_id, "granted": granted, "reason": reason, **extra})


def mode(value: str, at: datetime = EPOCH) -> DoorMode:
    return DoorMode.model_validate({"ts": at, "mode": value})


# -- taps and decisions ---------------------------------------------------------------------


def test_a_card_publishes_a_tap_on_the_door_topic(door, clock, sent):
    t = tap(door, clock)
    assert sent == [(topics.tap("piaseczno", "reader-sala-a"), t, False)]
    assert t.card == CARD and t.boot == door.boot and t.seq is not None
    assert t.ts == clock.wall()


def test_a_grant_drives_the_strike_for_unlock_s_then_relocks(door, factory, clock, sent):
    t = tap(door, clock)
    assert not high(factory, STRIKE)
    clock.now += 0.2
    door.decision(decide(t.id, unlock_s=3.0), clock.now)
    assert high(factory, STRIKE) and high(factory, GREEN) and not high(factory, RED)
    door.tick(clock.now + 2.99)
    assert high(factory, STRIKE)
    door.tick(clock.now + 3.01)
    assert not high(factory, STRIKE) and not high(factory, GREEN)
    [result] = sent.results()
    assert (result.tap, result.applied, result.granted, result.reason) == (
        t.id,
        "server",
        True,
        "booking",
    )
    assert result.id != t.id
    assert sent[-1][0] == topics.result("piaseczno", "reader-sala-a")


def test_a_grant_beeps_short_and_a_denial_long_with_the_red_led(door, factory, clock):
    t = tap(door, clock)
    door.decision(decide(t.id), clock.now)
    door.tick(clock.now + 0.1)
    assert high(factory, BUZZER)
    door.tick(clock.now + 0.2)
    assert not high(factory, BUZZER)

    clock.now += 10
    t = tap(door, clock)
    door.decision(decide(t.id, granted=False), clock.now)
    door.tick(clock.now + 0.9)
    assert high(factory, BUZZER) and high(factory, RED)
    door.tick(clock.now + 1.1)
    assert not high(factory, BUZZER) and high(factory, RED)
    door.tick(clock.now + 2.1)
    assert not high(factory, RED)


def test_a_denial_never_opens(door, factory, clock, sent):
    t = tap(door, clock)
    door.decision(decide(t.id, granted=False), clock.now + 0.1)
    for dt in (0.1, 1.0, 5.0):
        door.tick(clock.now + dt)
        assert not high(factory, STRIKE)
    [result] = sent.results()
    assert not result.granted and result.applied == "server" and result.reason == "no_access"


def test_no_decision_in_time_stays_locked_signals_offline_and_reports_applied_none(
    door, factory, clock, sent
):
    t = tap(door, clock)
    door.tick(clock.now + 1.99)
    assert sent.results() == []
    door.tick(clock.now + 2.0)
    [result] = sent.results()
    assert (result.tap, result.applied, result.granted) == (t.id, "none", False)
    assert not high(factory, STRIKE)
    assert high(factory, RED) and high(factory, GREEN) and high(factory, BUZZER)


def test_a_late_decision_is_ignored(door, factory, clock, sent):
    t = tap(door, clock)
    door.tick(clock.now + 2.5)
    door.decision(decide(t.id), clock.now + 2.6)
    door.tick(clock.now + 2.7)
    assert not high(factory, STRIKE)
    assert [r.applied for r in sent.results()] == ["none"]


def test_a_late_decision_is_ignored_even_before_a_tick_expired_the_tap(door, factory, clock, sent):
    t = tap(door, clock)
    door.decision(decide(t.id), clock.now + 2.5)
    assert not high(factory, STRIKE)
    assert [(r.applied, r.granted) for r in sent.results()] == [("none", False)]


def test_only_the_first_decision_for_a_tap_applies(door, factory, clock, sent):
    t = tap(door, clock)
    door.decision(decide(t.id, granted=False), clock.now + 0.1)
    door.decision(decide(t.id, granted=True, by="gateway"), clock.now + 0.2)
    assert not high(factory, STRIKE)
    assert [(r.applied, r.granted) for r in sent.results()] == [("server", False)]


def test_a_repeated_grant_is_ignored_and_does_not_extend_the_unlock(door, factory, clock, sent):
    t = tap(door, clock)
    door.decision(decide(t.id), clock.now)
    door.decision(decide(t.id, unlock_s=60.0), clock.now + 1)
    door.tick(clock.now + 5.01)
    assert not high(factory, STRIKE)
    assert len(sent.results()) == 1


def test_a_decision_for_an_unknown_tap_is_ignored(door, factory, clock, sent):
    door.decision(decide("not-a-tap-of-ours"), clock.now)
    assert not high(factory, STRIKE) and sent == []


def test_seq_counts_every_event_of_the_boot(door, factory, clock, sent):
    t = tap(door, clock)
    door.decision(decide(t.id), clock.now)
    factory.pin(CONTACT).drive_high()  # opened
    factory.pin(CONTACT).drive_low()  # closed
    t2 = tap(door, clock)
    seqs = [m.seq for _, m, _ in sent]  # type: ignore[attr-defined]
    assert seqs == [2, 3, 4, 5, 6]  # 1 was the "closed" when drive_idle closed the door
    assert {m.boot for _, m, _ in sent} == {door.boot}  # type: ignore[attr-defined]
    assert t2.id != t.id


# -- the door contact, the exit button and the fire alarm ------------------------------------


def test_opening_without_a_grant_is_forced(door, factory, clock, sent):
    factory.pin(CONTACT).drive_high()
    assert sent.events() == ["opened", "forced"]
    assert all(topic == topics.door_event("piaseczno", "reader-sala-a") for topic, _, _ in sent)
    factory.pin(CONTACT).drive_low()
    assert sent.events() == ["opened", "forced", "closed"]


def test_opening_after_a_grant_is_not_forced(door, factory, clock, sent):
    t = tap(door, clock)
    door.decision(decide(t.id), clock.now)
    clock.now += 1
    factory.pin(CONTACT).drive_high()
    assert sent.events() == ["opened"]


def test_opening_well_after_the_unlock_ended_is_forced(door, factory, clock, sent):
    t = tap(door, clock)
    door.decision(decide(t.id), clock.now)
    clock.now += 10
    door.tick(clock.now)
    factory.pin(CONTACT).drive_high()
    assert sent.events() == ["opened", "forced"]


def test_held_open_is_reported_once_per_opening(door, factory, clock, sent):
    t = tap(door, clock)
    door.decision(decide(t.id), clock.now)
    factory.pin(CONTACT).drive_high()
    opened = clock.now
    door.tick(opened + 29.9)
    assert sent.events() == ["opened"]
    door.tick(opened + 30.1)
    door.tick(opened + 120)
    assert sent.events() == ["opened", "held_open"]
    clock.now = opened + 121
    factory.pin(CONTACT).drive_low()
    door.tick(opened + 200)
    assert sent.events() == ["opened", "held_open", "closed"]


def test_the_exit_button_unlocks_and_the_door_opened_after_it_is_not_forced(
    door, factory, clock, sent
):
    factory.pin(EXIT).drive_low()  # pressed
    factory.pin(EXIT).drive_high()  # released: no second request
    assert high(factory, STRIKE)
    assert sent.events() == ["exit_request"]
    clock.now += 1
    factory.pin(CONTACT).drive_high()
    assert sent.events() == ["exit_request", "opened"]
    door.tick(clock.now + 3.9)
    assert high(factory, STRIKE)
    door.tick(clock.now + 4.1)
    assert not high(factory, STRIKE)


def test_the_fire_alarm_releases_while_active_and_relocks_when_it_clears(
    door, factory, clock, sent
):
    factory.pin(FIRE).drive_high()  # the normally-closed alarm contact opened
    assert high(factory, STRIKE)
    assert sent.events() == ["fire_release"]
    door.tick(clock.now + 600)
    assert high(factory, STRIKE)
    factory.pin(CONTACT).drive_high()
    assert "forced" not in sent.events()
    clock.now += 601
    factory.pin(FIRE).drive_low()
    assert not high(factory, STRIKE)
    assert sent.events() == ["fire_release", "opened"]


def test_the_fire_alarm_overrides_a_lockdown(door, factory, clock, sent):
    door.mode(mode("locked"), clock.now)
    factory.pin(FIRE).drive_high()
    assert high(factory, STRIKE)


# -- modes and remote commands ---------------------------------------------------------------


def test_locked_mode_refuses_a_grant(door, factory, clock, sent):
    door.mode(mode("locked"), clock.now)
    t = tap(door, clock)
    door.decision(decide(t.id), clock.now + 0.1)
    assert not high(factory, STRIKE) and high(factory, RED)
    [result] = sent.results()
    assert (result.applied, result.granted, result.reason) == ("server", False, "locked_down")


def test_a_lockdown_ends_an_unlock_in_progress(door, factory, clock):
    t = tap(door, clock)
    door.decision(decide(t.id), clock.now)
    door.mode(mode("locked"), clock.now + 1)
    assert not high(factory, STRIKE)


def test_unlocked_mode_holds_the_strike_until_the_mode_changes(door, factory, clock, sent):
    door.mode(mode("unlocked"), clock.now)
    assert high(factory, STRIKE) and high(factory, GREEN)
    factory.pin(CONTACT).drive_high()
    door.tick(clock.now + 3600)
    assert high(factory, STRIKE)
    assert sent.events() == ["opened"]  # neither forced nor held open in passage mode
    clock.now += 3601  # the wall clock too: a mode dated an hour ahead would be ignored
    door.mode(mode("normal", EPOCH + timedelta(hours=1)), clock.now)
    assert not high(factory, STRIKE)


def test_an_older_mode_does_not_replace_a_newer_one(door, factory, clock):
    door.mode(mode("unlocked", EPOCH + timedelta(minutes=5)), clock.now)
    door.mode(mode("normal", EPOCH), clock.now)
    assert door.current_mode == "unlocked" and high(factory, STRIKE)


def command(expires: datetime, id_: str = "cmd-1") -> DoorCommand:
    return DoorCommand(id=id_, ts=EPOCH, expires=expires, unlock_s=4.0)


def test_an_expired_door_command_is_ignored(door, factory, clock):
    door.command(command(EPOCH + timedelta(seconds=30)), EPOCH + timedelta(seconds=31), clock.now)
    assert not high(factory, STRIKE)


def test_a_valid_door_command_opens_for_its_unlock_s(door, factory, clock, sent):
    door.command(command(EPOCH + timedelta(seconds=30)), EPOCH + timedelta(seconds=5), clock.now)
    assert high(factory, STRIKE)
    door.tick(clock.now + 3.9)
    assert high(factory, STRIKE)
    door.tick(clock.now + 4.1)
    assert not high(factory, STRIKE)
    # the same command again (a redelivery) does not open a second time
    door.command(command(EPOCH + timedelta(seconds=30)), EPOCH + timedelta(seconds=6), clock.now)
    assert not high(factory, STRIKE)


def test_a_door_command_is_refused_in_lockdown(door, factory, clock):
    door.mode(mode("locked"), clock.now)
    door.command(command(EPOCH + timedelta(seconds=30)), EPOCH, clock.now)
    assert not high(factory, STRIKE)


def test_the_emergency_list_is_kept_and_changes_nothing(door, factory, clock, sent):
    emergency = EmergencyList(ts=EPOCH, salt="00ff00ff", cards=["a" * 64])
    door.set_emergency_list(emergency)
    assert door.emergency_list == emergency
    assert not high(factory, STRIKE) and sent == []


# -- status and wiring -------------------------------------------------------------------------


def test_status_is_a_door_status_with_the_heartbeat_interval(door, clock):
    status = door.status("online")
    assert (status.state, status.kind, status.interval_s) == ("online", "door", 60.0)
    assert status.clock_synced and status.queued == 0 and status.dropped == 0
    assert status.ts == clock.wall()


def test_inputs_read_at_start_do_not_publish_and_an_open_door_is_not_forced(factory, clock, sent):
    # Without drive_idle the mock inputs idle high: the door reads open, the fire
    # contact reads alarmed; the controller takes that as the starting state.
    controller = DoorController(CONFIG, pin_factory=factory, publish=sent, clock=clock)
    try:
        assert sent == [] and not controller.door_closed
        assert high(factory, STRIKE)  # released by the (mock) fire alarm
        factory.pin(FIRE).drive_low()
        assert not high(factory, STRIKE)
    finally:
        controller.close()


def test_an_active_low_relay_module_is_driven_low_to_release(factory, clock, sent):
    config = CONFIG.model_copy(
        update={"pins": CONFIG.pins.model_copy(update={"strike_active_high": False})}
    )
    controller = DoorController(config, pin_factory=factory, publish=sent, clock=clock)
    try:
        drive_idle(factory, config.pins)
        assert high(factory, STRIKE)  # relay off
        t = controller.card(CARD, clock.now)
        controller.decision(decide(t.id), clock.now)
        assert not high(factory, STRIKE)  # relay on
    finally:
        controller.close()


def test_a_publish_that_fails_does_not_stop_the_door(factory, clock):
    def broken(topic: str, message: Message, retain: bool) -> None:
        raise OSError("network down")

    controller = DoorController(CONFIG, pin_factory=factory, publish=broken, clock=clock)
    try:
        drive_idle(factory, CONFIG.pins)
        t = controller.card(CARD, clock.now)
        controller.decision(decide(t.id), clock.now)
        assert high(factory, STRIKE)
    finally:
        controller.close()
