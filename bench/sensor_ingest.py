"""Sensor ingest: Count events committed per second, next to a bare paho subscriber
counting the same messages, in one run over the same broker.

A publisher in a process of its own sends `--events` Count events (split over the
site's two people counters) as fast as QoS 1 allows, twice: first to a bare subscriber
that only counts them, then to the server's SensorIngest, timed until the last one is
committed. Figures for 10,000 and 100,000 events.

    .venv/bin/python bench/sensor_ingest.py [--quick] [--rows FILE] [--broker mosquitto]
"""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import paho.mqtt.client as paho  # noqa: E402

from bench import common  # noqa: E402
from bench.common import SITE, Report, Row  # noqa: E402
from protocol import topics  # noqa: E402
from protocol.messages import Count, encode, new_id, utcnow  # noqa: E402
from protocol.mqtt import parse_url  # noqa: E402

COUNTERS = ("counter-main", "counter-sala-b")
WINDOW = 20_000  # publishes not yet acknowledged, at most


def _publish(url: str, n: int, go: Any, started: Any, done: Any) -> None:
    """Publish `n` Count events once `go` is set; `started` gets the monotonic time of
    the first publish."""
    boot = new_id()[:20]
    messages = [
        (
            topics.count(SITE, COUNTERS[i % 2]),
            encode(Count(id=new_id(), ts=utcnow(), entered=1, boot=boot, seq=i // 2 + 1)),
        )
        for i in range(n)
    ]
    address = parse_url(url)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{new_id()[:6]}")
    client.connect(address.host, address.port)
    client.loop_start()
    go.wait()
    started.value = time.monotonic()
    infos = []
    for i, (topic, payload) in enumerate(messages):
        if i >= WINDOW:  # paho's message ids wrap at 65,535: never that many outstanding
            infos[i - WINDOW].wait_for_publish(120)
        infos.append(client.publish(topic, payload, qos=1))
    for info in infos[-WINDOW:]:
        info.wait_for_publish(120)
    done.set()
    client.loop_stop()
    client.disconnect()


def run_publisher(url: str, n: int, until: Any) -> float:
    """Publish `n` events; wait for `until()` to say they are all taken; seconds since
    the first publish."""
    mp = multiprocessing.get_context("spawn")
    go, done, started = mp.Event(), mp.Event(), mp.Value("d", 0.0)
    proc = mp.Process(target=_publish, args=(url, n, go, started, done))
    proc.start()
    time.sleep(1.0 + n / 50_000)  # the payloads are built beforehand
    go.set()
    deadline = time.monotonic() + 300
    while not until():
        if time.monotonic() > deadline or (proc.exitcode or 0) != 0:
            raise RuntimeError("the events did not all arrive")
        time.sleep(0.002)
    finished = time.monotonic()
    proc.join(60)
    return finished - started.value


class Bare:
    """A plain paho subscriber at QoS 1 that counts what it gets."""

    def __init__(self, url: str) -> None:
        address = parse_url(url)
        self.count = 0
        self._ready = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-bare-sub")
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(
            topics.all_events(SITE, "count"), qos=1
        )
        self.client.on_subscribe = lambda *a: self._ready.set()
        self.client.on_message = self._on
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        self._ready.wait(10)

    def _on(self, client: Any, userdata: Any, msg: Any) -> None:
        self.count += 1

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def measure(kind: str, tmp: Path, sizes: list[int], report: Report) -> None:
    from server.adapters.sensor_ingest import SensorIngest
    from server.context import ServerContext

    site = common.bench_site(tmp)
    with common.broker(kind, tmp / "broker") as b:
        for n in sizes:
            bare = Bare(b.url)
            bare_s = run_publisher(b.url, n, lambda: bare.count >= n)  # noqa: B023
            bare.stop()
            ctx = ServerContext.create(common.settings(tmp, b.url, site, f"ingest-{n}.db"))
            ingest = SensorIngest(ctx)
            ingest.start()
            ingest.client.wait_connected(10)
            time.sleep(0.3)
            ingest_s = run_publisher(b.url, n, lambda: ingest.counters.recorded >= n)  # noqa: B023
            ingest.stop()
            ctx.close()
            ours, base = n / ingest_s, n / bare_s
            report.add(
                Row(
                    f"sensor ingest, {n:,} Count events committed, {kind}",
                    ours,
                    "events/s",
                    base,
                    "≥ 0.8× baseline",
                    ours >= 0.8 * base,
                )
            )


def main() -> None:
    args = common.arguments(__doc__, events=(100_000, 2_000))
    report = Report(args.rows)
    sizes = sorted({min(10_000, args.events), args.events})
    kinds = common.brokers(args.broker)[:1] if args.broker == "both" else [args.broker]
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp:
            measure(kind, Path(tmp), sizes, report)


if __name__ == "__main__":
    main()
