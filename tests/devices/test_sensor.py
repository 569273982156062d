"""The occupancy sensor on gpiozero mock pins with a hand-moved clock: the two-beam
counter's directions, the once-a-second Count, the PIR's Motion, boot/seq, its config."""

from __future__ import annotations

import logging
import threading
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory
from support.clock import MonotonicClock as Clock
from support.waiting import eventually

from devices.config import ConfigError, SensorConfig, load_door_config, load_sensor_config
from devices.sensor import OccupancySensor, drive_idle_sensor
from devices.sensor_inputs import STUCK_AFTER, BeamCounter, MotionWatcher
from protocol import topics
from protocol.messages import Count, Message, Motion, decode, encode
from spacehub.cli import main

# For gpiozero's own sampling thread only (MotionSensor polls at 10 Hz).
wait_until = partial(eventually, timeout=3.0)


PIR, BEAM_A, BEAM_B = 6, 16, 26
EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
DEVICES = ROOT / "firmware_configs" / "devices"
DEMO_SENSORS = ["counter-main", "pir-sala-a", "pir-sala-b", "counter-sala-b", "pir-cowork"]


def config(sensor: str | list[str] = "counter", **pins: object) -> SensorConfig:
    wired: dict[str, object] = {}
    kinds = [sensor] if isinstance(sensor, str) else sensor
    if "pir" in kinds:
        wired["pir"] = PIR
    if "counter" in kinds:
        wired |= {"beam_a": BEAM_A, "beam_b": BEAM_B}
    return SensorConfig.model_validate(
        {
            "site": "piaseczno",
            "device": "counter-sala-b",
            "sensor": sensor,
            "pins": wired | pins,
            "timing": {"heartbeat": "30s", "count_interval": "1s"},
            "clock_synced": True,
        }
    )


class Sent(list[tuple[str, Message, bool]]):
    """What the sensor published, in order (from any thread)."""

    def __call__(self, topic: str, message: Message, retain: bool) -> None:
        decode(type(message), encode(message))  # a payload that would not encode fails here
        self.append((topic, message, retain))

    def counts(self) -> list[tuple[int, int]]:
        return [(m.entered, m.left) for _, m, _ in self if isinstance(m, Count)]

    def motions(self) -> list[bool]:
        return [m.motion for _, m, _ in self if isinstance(m, Motion)]


@pytest.fixture
def sent() -> Sent:
    return Sent()


@pytest.fixture
def counter(factory: MockFactory, clock: Clock) -> Iterator[BeamCounter]:
    made = BeamCounter(BEAM_A, BEAM_B, pin_factory=factory, clock=clock, interval=1.0)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def sensor(factory: MockFactory, clock: Clock, sent: Sent) -> Iterator[OccupancySensor]:
    made = OccupancySensor(
        config(["pir", "counter"]),
        pin_factory=factory,
        publish=sent,
        clock=clock,
        wallclock=clock.wall,
    )
    try:
        drive_idle_sensor(factory, made.config.pins)
        yield made
    finally:
        made.close()


def walk(counter: BeamCounter, steps: str, now: float = 0.0) -> list[str | None]:
    """Feed steps like "A+ B+ A- B-" (upper case beam, + broken, - cleared)."""
    return [
        counter.beam("a" if step[0] == "A" else "b", step[1] == "+", now + i * 0.1)
        for i, step in enumerate(steps.split())
    ]


IN = "A+ B+ A- B-"
OUT = "B+ A+ B- A-"

# -- the two-beam counter, driven through its feed method ---------------------------------


def test_a_then_b_is_one_person_entering(counter):
    assert walk(counter, IN) == [None, None, None, "entered"]
    assert counter.pending == (1, 0)


def test_b_then_a_is_one_person_leaving(counter):
    assert walk(counter, OUT) == [None, None, None, "left"]
    assert counter.pending == (0, 1)


@pytest.mark.parametrize(
    "steps",
    [
        "A+ A-",  # a step into the outer beam and back
        "A+ B+ B- A-",  # all the way into both beams, then back out
        "B+ A+ A- B-",  # from the room side into both, then back in
        "A+ B+ A- A+ B- A-",  # got halfway through, changed their mind
    ],
)
def test_a_crossing_that_turns_back_counts_nothing(counter, steps):
    assert set(walk(counter, steps)) == {None}
    assert counter.pending == (0, 0)


def test_chatter_on_one_beam_is_not_a_person(counter):
    assert set(walk(counter, "A+ A- " * 6)) == {None}
    assert set(walk(counter, "B+ B- " * 6)) == {None}
    assert counter.pending == (0, 0)


def test_hesitating_inside_the_beams_still_counts_once(counter):
    assert walk(counter, "A+ B+ A- A+ A- B-")[-1] == "entered"
    assert walk(counter, "B+ A+ A- A+ B- A-")[-1] == "left"
    assert counter.pending == (1, 1)


def test_repeated_levels_change_nothing(counter):
    assert walk(counter, "A+ A+ B+ B+ A- A- B- B-") == [None] * 6 + ["entered", None]
    assert counter.pending == (1, 0)


def test_two_people_in_a_row_each_count(counter):
    assert walk(counter, f"{IN} {IN}")[-1] == "entered"
    assert counter.pending == (2, 0)


def test_people_going_both_ways_are_counted_apart(counter):
    walk(counter, f"{IN} {OUT} A+ A- {IN} {OUT} {OUT}")
    assert counter.pending == (2, 3)


def test_a_second_person_before_the_beams_clear_makes_one_crossing(counter):
    # The documented limit: the first still in B when the second breaks A.
    assert walk(counter, "A+ B+ A- A+ B- B+ A- B-")[-1] == "entered"
    assert counter.pending == (1, 0)


def test_a_crossing_under_way_at_start_counts_nothing(factory, clock):
    # Without pull-ups, so the mock pins keep the levels driven before the counter starts.
    factory.pin(BEAM_A).drive_low()  # someone is standing in beam A at boot
    factory.pin(BEAM_B).drive_high()
    counter = BeamCounter(BEAM_A, BEAM_B, pull_up=False, pin_factory=factory, clock=clock)
    try:
        assert walk(counter, "B+ A- B-")[-1] is None
        assert walk(counter, IN)[-1] == "entered"
        assert counter.pending == (1, 0)
    finally:
        counter.close()


def test_an_unknown_beam_is_refused(counter):
    with pytest.raises(ValueError, match='"a" or "b"'):
        counter.beam("c", True, 0.0)  # type: ignore[arg-type]


def test_a_stuck_beam_is_logged_once(counter, caplog):
    caplog.set_level(logging.WARNING, logger="devices.sensor_inputs")
    counter.beam("a", True, 10.0)
    counter.tick(10.0 + STUCK_AFTER - 1)
    assert not caplog.records
    counter.tick(10.0 + STUCK_AFTER)
    counter.tick(10.0 + STUCK_AFTER + 5)
    assert [r.getMessage()[:6] for r in caplog.records] == ["beam A"]


# -- the counter through mock pins ----------------------------------------------------------


def cross(factory: MockFactory, order: str, broken_level: bool = False) -> None:
    """Drive the mock pins through a crossing: "AB" enters, "BA" leaves."""
    first, second = (BEAM_A, BEAM_B) if order == "AB" else (BEAM_B, BEAM_A)
    for pin, broken in ((first, True), (second, True), (first, False), (second, False)):
        level = broken == broken_level
        (factory.pin(pin).drive_high if level else factory.pin(pin).drive_low)()


def test_crossings_on_the_pins_are_counted(counter, factory):
    drive_idle_sensor(factory, config().pins)  # pull-ups: clear beams read high already
    cross(factory, "AB")
    cross(factory, "AB")
    cross(factory, "BA")
    assert counter.pending == (2, 1)


@pytest.mark.parametrize("pull_up", [True, False])
def test_receivers_that_go_high_when_broken(factory, clock, pull_up):
    pins = config(beam_active_high=True, pull_up=pull_up).pins
    counter = BeamCounter(
        BEAM_A, BEAM_B, active_high=True, pull_up=pull_up, pin_factory=factory, clock=clock
    )
    try:
        drive_idle_sensor(factory, pins)
        assert counter.pending == (0, 0)
        cross(factory, "AB", broken_level=True)
        cross(factory, "BA", broken_level=True)
        assert counter.pending == (1, 1)
    finally:
        counter.close()


# -- Count: summed, at most once per interval, never zeros --------------------------------


def test_counts_are_published_at_most_once_a_second_as_sums(sensor, clock, sent):
    topic = topics.count("piaseczno", "counter-sala-b")
    counter = sensor.counter
    assert counter is not None
    sensor.tick(clock.now)
    assert sent.counts() == []  # nothing pending: no Count of zeros

    walk(counter, IN, clock.now)
    clock.now += 0.25
    sensor.tick(clock.now)  # the first one goes out on the next tick
    assert sent.counts() == [(1, 0)]

    for _ in range(3):
        clock.now += 0.25
        walk(counter, f"{IN} {OUT}", clock.now)
        sensor.tick(clock.now)
    assert sent.counts() == [(1, 0)]  # 0.75 s since the last: held back

    clock.now += 0.25
    sensor.tick(clock.now)
    assert sent.counts() == [(1, 0), (3, 3)]
    clock.now += 5
    sensor.tick(clock.now)
    assert sent.counts() == [(1, 0), (3, 3)]  # nothing new: nothing sent
    assert {t for t, m, _ in sent if isinstance(m, Count)} == {topic}
    assert not any(retain for _, _, retain in sent)


def test_closing_sends_what_is_still_counted(factory, clock, sent):
    sensor = OccupancySensor(config(), pin_factory=factory, publish=sent, clock=clock)
    assert sensor.counter is not None and sensor.motion is None
    walk(sensor.counter, IN, clock.now)
    sensor.tick(clock.now)
    walk(sensor.counter, OUT, clock.now)
    sensor.tick(clock.now)  # within the interval: held back
    sensor.close()
    assert sent.counts() == [(1, 0), (0, 1)]
    sensor.close()  # twice is fine
    sensor.tick(clock.now + 10)
    assert len(sent) == 2


# -- the PIR -----------------------------------------------------------------------------


def test_motion_and_no_motion_are_published_from_the_pin(sensor, factory, clock, sent):
    # MotionSensor samples on its own thread: the only waits in this file are for it.
    assert wait_until(lambda: (sensor.tick(clock.now), sent.motions())[1] == [False])
    factory.pin(PIR).drive_high()
    assert wait_until(lambda: sent.motions() == [False, True])
    factory.pin(PIR).drive_low()
    assert wait_until(lambda: sent.motions() == [False, True, False])
    motions = [m for _, m, _ in sent if isinstance(m, Motion)]
    assert len({m.id for m in motions}) == 3
    assert {t for t, m, _ in sent if isinstance(m, Motion)} == {
        topics.motion("piaseczno", "counter-sala-b")
    }


def test_the_first_reading_is_reported_once_even_when_it_is_motion(factory, clock, sent):
    sensor = OccupancySensor(config("pir"), pin_factory=factory, publish=sent, clock=clock)
    # Someone is moving in the room at boot: high before the sampling queue first fills
    # (3 samples at 10 Hz); gpiozero fires no callback for a first reading.
    factory.pin(PIR).drive_high()
    try:
        assert wait_until(lambda: (sensor.tick(clock.now), sent.motions())[1] == [True])
        time.sleep(0.3)  # three more samples: no callback, nothing repeated
        sensor.tick(clock.now)
        assert sent.motions() == [True]
    finally:
        sensor.close()


def test_an_active_low_pir_reads_motion_on_a_low_pin(factory, clock, sent):
    sensor = OccupancySensor(
        config("pir", pir_active_high=False), pin_factory=factory, publish=sent, clock=clock
    )
    try:
        drive_idle_sensor(factory, sensor.config.pins)
        assert wait_until(lambda: (sensor.tick(clock.now), sent.motions())[1] == [False])
        factory.pin(PIR).drive_low()
        assert wait_until(lambda: sent.motions() == [False, True])
    finally:
        sensor.close()


def test_the_watcher_reports_changes_only(factory, clock):
    seen: list[tuple[bool, float]] = []
    watcher = MotionWatcher(
        PIR, pin_factory=factory, on_change=lambda m, now: seen.append((m, now)), clock=clock
    )
    try:
        for motion, now in ((True, 1.0), (True, 2.0), (False, 3.0), (False, 4.0), (True, 5.0)):
            watcher.seen(motion, now)
        assert seen == [(True, 1.0), (False, 3.0), (True, 5.0)]
    finally:
        watcher.close()


def test_closing_stops_the_pir_thread_promptly(factory, clock, sent):
    before = set(threading.enumerate())
    sensor = OccupancySensor(config("pir"), pin_factory=factory, publish=sent, clock=clock)
    assert sensor.motion is not None
    assert len(set(threading.enumerate()) - before) == 1  # MotionSensor's sampling thread
    factory.pin(PIR).drive_high()
    started = time.monotonic()
    sensor.close()
    assert time.monotonic() - started < 1.0
    assert sensor.motion.device.closed
    assert set(threading.enumerate()) - before == set()


# -- one boot, one seq -----------------------------------------------------------------------


def test_boot_is_constant_and_seq_grows_across_motion_and_count(sensor, clock, sent):
    assert sensor.motion is not None and sensor.counter is not None
    sensor.motion.seen(True, clock.now)
    walk(sensor.counter, IN, clock.now)
    sensor.tick(clock.now)
    sensor.motion.seen(False, clock.now)
    clock.now += 1.0
    walk(sensor.counter, OUT, clock.now)
    sensor.tick(clock.now)
    events = [m for _, m, _ in sent]
    assert [type(m).__name__ for m in events] == ["Motion", "Count", "Motion", "Count"]
    assert {m.boot for m in events} == {sensor.boot}  # type: ignore[attr-defined]
    assert [m.seq for m in events] == [1, 2, 3, 4]  # type: ignore[attr-defined]
    assert events[0].ts == clock.wall() - timedelta(seconds=1)  # type: ignore[attr-defined]


def test_a_new_sensor_draws_a_new_boot(factory, clock, sent):
    first = OccupancySensor(config(), pin_factory=factory, publish=sent, clock=clock)
    first.close()
    second = OccupancySensor(config(), pin_factory=factory, publish=sent, clock=clock)
    second.close()
    assert first.boot != second.boot


def test_status_is_an_occupancy_status_with_the_heartbeat_interval(sensor, clock):
    status = sensor.status("online")
    assert (status.state, status.kind, status.interval_s) == ("online", "occupancy", 30.0)
    assert status.clock_synced and status.ts == clock.wall()
    assert sensor.status("offline").state == "offline"


def test_a_publish_that_fails_does_not_stop_counting(factory, clock):
    def broken(topic: str, message: Message, retain: bool) -> None:
        raise ConnectionError("broker gone")

    sensor = OccupancySensor(config(), pin_factory=factory, publish=broken, clock=clock)
    try:
        assert sensor.counter is not None
        walk(sensor.counter, IN, clock.now)
        sensor.tick(clock.now)  # logged, not raised
        walk(sensor.counter, IN, clock.now + 2)
        assert sensor.counter.pending == (1, 0)
    finally:
        sensor.close()


def test_only_what_is_configured_is_built(factory, clock, sent):
    pir = OccupancySensor(config("pir"), pin_factory=factory, publish=sent, clock=clock)
    pir.close()
    assert pir.motion is not None and pir.counter is None


# -- the config files ---------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sensor.toml"
    path.write_text(text)
    return path


MINIMAL = 'site = "piaseczno"\ndevice = "pir-x"\nsensor = "pir"\n[pins]\npir = 6\n'


@pytest.mark.parametrize("device", DEMO_SENSORS)
def test_the_demo_sensors_load_and_match_the_site_inventory(device: str) -> None:
    config = load_sensor_config(DEVICES / f"{device}.toml")
    inventory = tomllib.loads((ROOT / "firmware_configs/sites/piaseczno.toml").read_text())
    listed = {d["id"]: d for d in inventory["devices"]}
    assert (config.site, config.device) == ("piaseczno", device)
    assert listed[device]["kind"] == "occupancy"
    assert config.sensor == (listed[device]["sensor"],)
    assert config.mqtt.url == "mqtt://127.0.0.1:1883"
    assert (config.timing.heartbeat, config.timing.count_interval) == (60.0, 1.0)
    pins = config.pins
    wired = {p for p in (pins.pir, pins.beam_a, pins.beam_b) if p is not None}
    door = load_door_config(DEVICES / "reader-main.toml").pins
    door_pins = {door.strike, door.green, door.red, door.buzzer, door.contact, door.exit}
    assert not wired & (door_pins | {door.fire})  # one Pi can run a door and a sensor


def test_defaults_and_both_kinds_on_one_pi(tmp_path: Path) -> None:
    config = load_sensor_config(write(tmp_path, MINIMAL))
    assert config.sensor == ("pir",)
    assert (config.timing.heartbeat, config.timing.count_interval) == (60.0, 1.0)
    assert (config.pins.pir_active_high, config.pins.beam_active_high) == (True, False)
    assert config.pins.pull_up and config.clock_synced is None
    both = MINIMAL.replace('"pir"\n', '["pir", "counter"]\n') + "beam_a = 16\nbeam_b = 26\n"
    both += '[timing]\ncount_interval = "2s"\n'
    config = load_sensor_config(write(tmp_path, both))
    assert config.sensor == ("pir", "counter")
    assert config.timing.count_interval == 2.0


COUNTER = 'site = "piaseczno"\ndevice = "counter-x"\nsensor = "counter"\n[pins]\n'


@pytest.mark.parametrize(
    ("text", "key", "why"),
    [
        (MINIMAL.replace('sensor = "pir"\n', ""), "sensor", "is required"),
        (MINIMAL.replace('"pir"\n', '"radar"\n'), "sensor", '"pir", "counter" or'),
        (MINIMAL.replace('"pir"\n', "[]\n"), "sensor", '"pir", "counter" or'),
        (MINIMAL.replace('"pir"\n', '["pir", "pir"]\n'), "sensor", '"pir", "counter" or'),
        (MINIMAL.replace("pir = 6", "beam_a = 16\nbeam_b = 26"), "pins", '"pir" needs pins.pir'),
        (COUNTER + "beam_a = 16\n", "pins", "beam_a and beam_b go together"),
        (COUNTER, "pins", 'sensor "counter" needs pins.beam_a and pins.beam_b'),
        (COUNTER + "pir = 6\nbeam_a = 16\nbeam_b = 26\n", "pins", 'does not list "pir"'),
        (MINIMAL + "beam_a = 16\nbeam_b = 26\n", "pins", 'does not list "counter"'),
        (COUNTER + "beam_a = 16\nbeam_b = 16\n", "pins", "BCM 16 is used for both beam_a and"),
        (MINIMAL + "beam = 16\n", "pins.beam", "is not a known key"),
        (MINIMAL.replace("pir = 6", "pir = 28"), "pins.pir", "less than or equal"),
        (MINIMAL + '[timing]\ncount_interval = "0s"\n', "timing.count_interval", "longer than 0s"),
        (MINIMAL + '[timing]\nunlock = "5s"\n', "timing.unlock", "is not a known key"),
        (MINIMAL + '[mqtt]\nurl = "http://x"\n', "mqtt.url", "mqtt://host"),
    ],
)  # fmt: skip
def test_an_invalid_config_names_the_file_the_key_and_why(
    tmp_path: Path, text: str, key: str, why: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_sensor_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert why in message and "\n" not in message


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.toml: cannot read"):
        load_sensor_config(tmp_path / "nowhere.toml")


def test_spacehub_sensor_with_a_bad_config_exits_2_with_one_line(tmp_path, capsys):
    path = write(tmp_path, MINIMAL.replace("pir = 6", "pir = 99"))
    assert main(["sensor", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"spacehub sensor: {path}: pins.pir: ") and err.count("\n") == 1
