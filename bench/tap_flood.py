"""A known card's decision latency during a flood of junk taps, next to a quiet broker.

One run, one broker, `spacehub server` in its own process: first a known card taps at
`bench-door-01` on a quiet broker; then the same card taps again while another client
publishes `--junk` taps of unknown cards at `reader-main` as fast as it can (the attack
of issue 8: 5,000 taps in a fraction of a second). Each known tap's time to its decision
is reported as p50/p99 next to the quiet ones, with how many known taps went unanswered
within the door's 2 s timeout.

    .venv/bin/python bench/tap_flood.py [--quick] [--rows FILE] [--junk 5000] [--taps 200]
"""

from __future__ import annotations

import multiprocessing
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import Report, Row, summary  # noqa: E402
from bench.tap_latency import BenchDoor, open_doors, server_db  # noqa: E402
from protocol import topics  # noqa: E402
from protocol.messages import Tap, encode, new_id, utcnow  # noqa: E402
from protocol.mqtt import MqttClient  # noqa: E402

SITE, JUNK_DOOR = "piaseczno", "reader-main"


def tap(door: BenchDoor) -> float | None:
    """One tap's milliseconds to its decision, or None past the door's 2 s timeout."""
    try:
        return door.tap(timeout=2.0)
    except TimeoutError:
        return None


def junk(url: str, n: int) -> None:
    """Publish `n` taps of random unknown cards at the junk door as fast as QoS 1 allows
    (run in a process of its own, as an attacker's client would be)."""
    client = MqttClient(url, client_id="bench-junk")
    client.start()
    client.wait_connected(10)
    topic = topics.tap(SITE, JUNK_DOOR)
    infos = [
        client.publish(topic, encode(Tap(id=new_id(), ts=utcnow(), card=secrets.token_hex(4))))
        for _ in range(n)
    ]
    for info in infos:
        info.wait_for_publish(30)
    client.stop()


def main() -> None:
    args = common.arguments(__doc__, junk=(5000, 500), taps=(200, 20))
    report = Report(args.rows)
    kind = common.brokers(args.broker)[0]
    with common.one_broker(args.broker) as (tmp, site, b):
        server_db(tmp, b.url, site, "bench.db")
        server = common.ServerProcess(tmp, b.url, site)
        try:
            door = open_doors(b.url, common.BENCH_DOORS[:1])[0]
            for _ in range(50):  # warm up
                tap(door)
            quiet = [tap(door) for _ in range(args.taps)]
            flood = multiprocessing.get_context("spawn").Process(
                target=junk, args=(b.url, args.junk)
            )
            flood.start()
            during: list[float | None] = []
            while flood.is_alive() or len(during) < 20:
                during.append(tap(door))
                time.sleep(0.01)
            door.client.stop()
        finally:
            server.stop()
    answered = [s for s in during if s is not None]
    calm = [s for s in quiet if s is not None]
    what = f"known card's tap during {args.junk:,} junk taps ({kind})"
    ours, base = summary(answered), summary(calm)
    report.add(Row(f"{what} p50", ours["p50"], "ms", base["p50"]))
    report.add(Row(f"{what} p99", ours["p99"], "ms", base["p99"]))
    missed = len(during) - len(answered)
    report.add(Row(f"{what}: unanswered within 2 s", missed, "taps", None, "0", missed == 0))


if __name__ == "__main__":
    main()
