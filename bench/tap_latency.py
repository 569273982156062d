"""Tap to decision through `spacehub server` in its own process, next to a bare echo.

A bench door publishes a Tap, waits for its Decision and then sends its Result, as the
protocol says; the bare echo (bench/common.py) takes the same payload at the same QoS
through the same broker and answers it at once, and takes a Result the same way. Taps
and echoes alternate, so both see the same machine. For each broker: `--taps`
sequential taps, then 20 doors at 5 taps/s each for `--seconds`; on Mosquitto also the
sequential taps while `--sensor-rate` Count events/s arrive, and while the release
sweep runs over `--sweep-bookings` bookings (releasing some every pass).

    .venv/bin/python bench/tap_latency.py [--quick] [--rows FILE] [--broker both]
"""

from __future__ import annotations

import multiprocessing
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import BENCH_DOORS, CARD, SITE, Report, Row  # noqa: E402
from protocol import topics  # noqa: E402
from protocol.messages import Count, Result, Tap, encode, new_id, utcnow  # noqa: E402
from protocol.mqtt import MqttClient  # noqa: E402

TIMEOUT_S = 5.0


class BenchDoor:
    """One door's client: `tap()` and `bare()` each return the milliseconds from publish
    to answer, then send the door's Result."""

    def __init__(self, url: str, device: str) -> None:
        self.device = device
        self._topic = topics.tap(SITE, device)
        self._result_topic = topics.result(SITE, device)
        self._answer: bytes | None = None
        self._waiting: bytes = b""
        self._got = threading.Event()
        self.client = MqttClient(url, client_id=f"bench-{device}-{new_id()[:6]}")
        self.client.subscribe(topics.decision(SITE, device), self._on_answer)
        self.client.subscribe(f"bench/pong/{device}", self._on_answer)

    def _on_answer(self, msg: Any) -> None:
        payload = bytes(msg.payload)
        if self._waiting in payload:
            self._answer = payload
            self._got.set()

    def _round(self, topic: str, tap: Tap, timeout: float = TIMEOUT_S) -> tuple[float, bytes]:
        self._got.clear()
        self._waiting = f'"id":"{tap.id}"'.encode()
        payload = encode(tap)
        started = time.perf_counter()
        self.client.publish(topic, payload)
        if not self._got.wait(timeout):
            raise TimeoutError(f"{self.device}: no answer on {topic} within {timeout} s")
        ms = (time.perf_counter() - started) * 1000
        assert self._answer is not None
        return ms, self._answer

    def _result(self, tap: Tap, answer: bytes, topic: str) -> None:
        granted = b'"granted":true' in answer
        by = "gateway" if b'"by":"gateway"' in answer else "server"
        result = Result(id=new_id(), tap=tap.id, applied=by, granted=granted, ts=utcnow())
        self.client.publish(topic, result)

    def tap(self, timeout: float = TIMEOUT_S) -> float:
        tap = Tap(id=new_id(), ts=utcnow(), card=CARD)
        ms, answer = self._round(self._topic, tap, timeout)
        self._result(tap, answer, self._result_topic)
        return ms

    def bare(self) -> float:
        tap = Tap(id=new_id(), ts=utcnow(), card=CARD)
        ms, answer = self._round(f"bench/ping/{self.device}", tap)
        self._result(tap, answer, f"bench/result/{self.device}")
        return ms


def open_doors(url: str, devices: tuple[str, ...]) -> list[BenchDoor]:
    doors = [BenchDoor(url, d) for d in devices]
    for door in doors:
        door.client.start()
    for door in doors:
        door.client.wait_connected(10)
    time.sleep(0.3)
    return doors


def timed_out(fn: Any) -> float:
    """Milliseconds `fn()` took to its answer; an answer that never came counts as the
    timeout."""
    try:
        return float(fn())
    except TimeoutError:
        return TIMEOUT_S * 1000


def sequential(door: BenchDoor, n: int) -> tuple[list[float], list[float]]:
    """`n` taps and `n` echoes, alternating."""
    taps, bare = [], []
    for _ in range(n):
        taps.append(timed_out(door.tap))
        bare.append(timed_out(door.bare))
    return taps, bare


def concurrent(doors: list[BenchDoor], rate: float, seconds: float) -> tuple[list, list]:
    """Each door taps `rate` times a second for `seconds`, an echo between two taps."""
    taps: list[float] = []
    bare: list[float] = []

    def run(door: BenchDoor) -> None:
        period = 1.0 / rate
        time.sleep(random.random() * period)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            began = time.monotonic()
            taps.append(timed_out(door.tap))
            time.sleep(max(0.0, began + period / 2 - time.monotonic()))
            bare.append(timed_out(door.bare))
            time.sleep(max(0.0, began + period - time.monotonic()))

    threads = [threading.Thread(target=run, args=(d,)) for d in doors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return taps, bare


def _sensor_load(url: str, rate: int, stop: Any) -> None:
    """Count events at `rate` a second, split over the site's two people counters, until
    `stop` is set."""
    client = MqttClient(url, client_id=f"bench-sensors-{new_id()[:6]}")
    client.start()
    client.wait_connected(10)
    counters = ("counter-main", "counter-sala-b")
    boot = new_id()[:20]
    seq = 0
    tick = 0.01
    began = time.monotonic()
    while not stop.is_set():
        for _ in range(max(1, int(rate * tick))):
            seq += 1
            for c in counters[seq % 2 : seq % 2 + 1]:
                count = Count(id=new_id(), ts=utcnow(), entered=1, left=1, boot=boot, seq=seq)
                client.publish(topics.count(SITE, c), count)
        began += tick
        time.sleep(max(0.0, began - time.monotonic()))
    client.stop()


def seed_bookings(ctx: Any, total: int, due: int, window: tuple[float, float]) -> None:
    """`total` bookings of Ewa (member 1) in the past; `due` of them booked with their
    grace ending evenly over `window` (seconds from now), for the sweep to release."""
    from sqlalchemy import insert

    from server.db import models

    grace = timedelta(seconds=ctx.site.access.no_show_grace)
    now = datetime.now(UTC)
    past = now - timedelta(days=400)
    rows = [
        {
            "room_id": ("sala-a", "sala-b")[i % 2],
            "member_id": 1,
            "start": past + timedelta(hours=i // 2),
            "end": past + timedelta(hours=i // 2, minutes=50),
            "status": ("completed", "released", "cancelled")[i % 3],
            "source": "api",
            "public": False,
            "price": 0,
        }
        for i in range(total - due)
    ]
    span = window[1] - window[0]
    for i in range(due):
        start = now + timedelta(seconds=window[0] + span * i / due) - grace
        rows.append(
            {
                "room_id": ("sala-a", "sala-b")[i % 2],
                "member_id": 1,
                "start": start,
                "end": start + timedelta(hours=1),
                "status": "booked",
                "source": "api",
                "public": False,
                "price": 0,
            }
        )
    with ctx.writes() as s, s.begin():
        for i in range(0, len(rows), 50_000):
            s.execute(insert(models.Booking), rows[i : i + 50_000])


def server_db(tmp: Path, url: str, site: Path, db: str, bookings: tuple | None = None) -> None:
    from server.context import ServerContext

    ctx = ServerContext.create(common.settings(tmp, url, site, db))
    common.seed_staff(ctx)
    if bookings is not None:
        seed_bookings(ctx, *bookings)
    ctx.close()


def released(tmp: Path, db: str) -> int:
    import sqlite3

    with sqlite3.connect(tmp / db) as c:
        return int(
            c.execute("select count(*) from bookings where released_at is not null").fetchone()[0]
        )


def measure(kind: str, tmp: Path, site: Path, args: Any, report: Report) -> None:
    with common.broker(kind, tmp / kind) as b, common.echo(b.url):
        server_db(tmp, b.url, site, f"{kind}.db")
        server = common.ServerProcess(tmp, b.url, site, db=f"{kind}.db")
        try:
            doors = open_doors(b.url, BENCH_DOORS)
            sequential(doors[0], 50)  # warm-up
            taps, bare = sequential(doors[0], args.taps)
            report.latencies(f"tap → decision, {kind}, {args.taps:,} sequential", taps, bare)
            taps, bare = concurrent(doors, 5, args.seconds)
            report.latencies(
                f"tap → decision, {kind}, 20 doors × 5/s × {args.seconds} s", taps, bare
            )
            if kind == "mosquitto":
                stop = multiprocessing.get_context("spawn").Event()
                load = multiprocessing.get_context("spawn").Process(
                    target=_sensor_load, args=(b.url, args.sensor_rate, stop)
                )
                load.start()
                time.sleep(2)
                taps, bare = sequential(doors[0], args.taps)
                stop.set()
                load.join(10)
                report.latencies(
                    f"tap → decision, {kind}, {args.sensor_rate:,} sensor events/s", taps, bare
                )
            for door in doors:
                door.client.stop()
        finally:
            server.stop()
        if kind == "mosquitto":
            sweep(b, tmp, site, args, report)


def sweep(b: Any, tmp: Path, site: Path, args: Any, report: Report) -> None:
    """Sequential taps while the release sweep releases bookings among many."""
    due = args.sweep_bookings // 50
    # due from once the server surely runs, over about as long as the taps take
    window = (12.0, 12.0 + args.taps * 0.012)
    server_db(tmp, b.url, site, "sweep.db", (args.sweep_bookings, due, window))
    seeded = time.monotonic()
    server = common.ServerProcess(tmp, b.url, site, db="sweep.db")
    try:
        doors = open_doors(b.url, BENCH_DOORS[:1])
        sequential(doors[0], 50)
        time.sleep(max(0.0, seeded + window[0] - time.monotonic()))
        taps, bare = sequential(doors[0], args.taps)
        doors[0].client.stop()
    finally:
        server.stop()
    n = released(tmp, "sweep.db")
    report.latencies(
        f"tap → decision, mosquitto, sweep over {args.sweep_bookings:,} bookings", taps, bare
    )
    report.add(Row(f"bookings the sweep released meanwhile (of {due:,} due)", n, "bookings"))


def main() -> None:
    args = common.arguments(
        __doc__,
        taps=(1000, 40),
        seconds=(30, 3),
        sensor_rate=(2000, 500),
        sweep_bookings=(100_000, 2_000),
    )
    report = Report(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        site = common.bench_site(Path(tmp))
        for kind in common.brokers(args.broker):
            measure(kind, Path(tmp), site, args, report)


if __name__ == "__main__":
    main()
