"""How long a sensor event takes to reach 100 open dashboards' event streams.

`spacehub server` runs in its own process with `--dashboards` clients reading
`GET /api/stream`. A people counter reports one person entering at a time; each report
changes the room's count, so the server pushes a `room` event to every stream. Each
sample is one event's time from the counter's publish to one dashboard reading it;
p50/p95/p99 over all events and dashboards.

    .venv/bin/python bench/sensor_to_dashboard.py [--quick] [--rows FILE]
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench import common  # noqa: E402
from bench.common import SITE, TOKEN, Report, Row, summary  # noqa: E402
from protocol import topics  # noqa: E402
from protocol.messages import Count, new_id, utcnow  # noqa: E402
from protocol.mqtt import MqttClient  # noqa: E402

SENSOR, ROOM = "counter-sala-b", "sala-b"


class Dashboards:
    """`n` stream readers on threads; `seen[people]` lists when each read that count."""

    def __init__(self, url: str, n: int) -> None:
        self.seen: dict[int, list[float]] = defaultdict(list)
        self.ready = 0
        self._lock = threading.Condition()
        self._stop = threading.Event()
        for _ in range(n):
            threading.Thread(target=self._read, args=(url,), daemon=True).start()

    def _read(self, url: str) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        try:
            with httpx.stream("GET", url, headers=headers, timeout=None) as response:
                kind = None
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                        if kind == "snapshot":
                            with self._lock:
                                self.ready += 1
                                self._lock.notify_all()
                    elif line.startswith("data: ") and kind == "room":
                        data = json.loads(line[6:])
                        if data["id"] == ROOM and data["people"] is not None:
                            at = time.perf_counter()
                            with self._lock:
                                self.seen[data["people"]].append(at)
                                self._lock.notify_all()
        except httpx.HTTPError:
            if not self._stop.is_set():
                raise

    def wait(self, test, timeout: float) -> bool:  # type: ignore[no-untyped-def]
        with self._lock:
            return self._lock.wait_for(test, timeout)

    def stop(self) -> None:
        self._stop.set()


def main() -> None:
    args = common.arguments(__doc__, events=(300, 20), dashboards=(100, 10))
    report = Report(args.rows)
    kind = common.brokers(args.broker)[0]
    with common.one_broker(args.broker) as (tmp, site, b):
        from server.context import ServerContext

        ServerContext.create(common.settings(tmp, b.url, site)).close()
        server = common.ServerProcess(tmp, b.url, site)
        try:
            n = args.dashboards
            boards = Dashboards(f"{server.url}/api/stream", n)
            if not boards.wait(lambda: boards.ready >= n, 60):
                raise RuntimeError(f"only {boards.ready} of {n} dashboards connected")
            sensor = MqttClient(b.url, client_id="bench-counter")
            sensor.start()
            sensor.wait_connected(10)
            time.sleep(0.5)
            boot, samples, missed = new_id()[:20], [], 0
            for seq in range(1, args.events + 1):
                event = Count(id=new_id(), ts=utcnow(), entered=1, boot=boot, seq=seq)
                started = time.perf_counter()
                sensor.publish(topics.count(SITE, SENSOR), event)
                boards.wait(lambda: len(boards.seen[seq]) >= n, 5)  # noqa: B023
                got = boards.seen[seq]
                missed += n - len(got)
                samples += [(at - started) * 1000 for at in got]
                time.sleep(0.05)  # a counter reports at most a few times a second
            boards.stop()
            sensor.stop()
        finally:
            server.stop()
    q = summary(samples)
    what = f"sensor event → {n} dashboard streams ({args.events} events, {kind})"
    report.add(Row(f"{what} p50", q["p50"], "ms"))
    report.add(Row(f"{what} p95", q["p95"], "ms", None, "< 100 ms", q["p95"] < 100 and not missed))
    report.add(Row(f"{what} p99", q["p99"], "ms"))
    if missed:
        report.add(Row(f"{what}: events not read within 5 s", missed, "events"))


if __name__ == "__main__":
    main()
