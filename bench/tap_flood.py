"""A known card's decision latency during a flood of junk taps, next to a quiet broker.

One run, one broker, one server: first a known card taps at `reader-sala-a` on a quiet
broker; then the same card taps again while another client publishes `--junk` taps of
unknown cards at `reader-main` as fast as it can (the attack of issue 8: 5,000 taps in a
fraction of a second). Each known tap's time to its decision is printed as p50/p99, with
how many known taps went unanswered within the door's 2 s timeout.

    .venv/bin/python bench/tap_flood.py [--junk 5000] [--taps 200] [--broker mosquitto]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.tap_latency import CARD, free_port, staff_door_path  # noqa: E402
from protocol import topics  # noqa: E402
from protocol.messages import Tap, encode, new_id, utcnow  # noqa: E402
from protocol.mqtt import MqttClient  # noqa: E402
from spacehub.broker import start_broker  # noqa: E402

SITE, KNOWN_DOOR, JUNK_DOOR = "piaseczno", "reader-sala-a", "reader-main"

TIMEOUT_S = 2.0  # the door's decision timeout


class Door:
    """A client publishing as one door and timing each tap to its decision."""

    def __init__(self, url: str) -> None:
        self.answers: dict[str, float] = {}
        self._got = threading.Condition()
        self.client = MqttClient(url, client_id="bench-known-door")
        self.client.subscribe(topics.decision(SITE, KNOWN_DOOR), self._on_decision)

    def _on_decision(self, msg) -> None:  # type: ignore[no-untyped-def]
        tap_id = msg.payload.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()
        with self._got:
            self.answers.setdefault(tap_id, time.perf_counter())
            self._got.notify_all()

    def tap(self) -> float | None:
        """One tap; milliseconds to its decision, or None past the door's timeout."""
        tap = Tap(id=new_id(), ts=utcnow(), card=CARD)
        started = time.perf_counter()
        self.client.publish(topics.tap(SITE, KNOWN_DOOR), tap)
        with self._got:
            self._got.wait_for(lambda: tap.id in self.answers, TIMEOUT_S)
        answered = self.answers.get(tap.id)
        return None if answered is None else (answered - started) * 1000


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


def describe(name: str, samples: list[float | None]) -> str:
    answered = [s for s in samples if s is not None]
    missed = len(samples) - len(answered)
    if len(answered) < 2:
        return f"{name:<34} answered {len(answered)} of {len(samples)}"
    q = statistics.quantiles(answered, n=100)
    return (
        f"{name:<34} p50 {statistics.median(answered):7.2f} ms   p99 {q[98]:7.2f} ms   "
        f"unanswered within {TIMEOUT_S:.0f} s: {missed} of {len(samples)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junk", type=int, default=5000)
    parser.add_argument("--taps", type=int, default=200)
    parser.add_argument("--broker", default="auto", choices=["auto", "mosquitto", "embedded"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp:
        broker = start_broker(args.broker, port=free_port(), data_dir=Path(tmp) / "broker")
        ctx, ingest = staff_door_path(broker.url, tmp)
        door = Door(broker.url)
        door.client.start()
        door.client.wait_connected(10)
        ingest.wait_connected(10)
        for _ in range(50):  # warm up
            door.tap()

        quiet = [door.tap() for _ in range(args.taps)]
        flood = multiprocessing.get_context("spawn").Process(
            target=junk, args=(broker.url, args.junk)
        )
        started = time.perf_counter()
        flood.start()
        during: list[float | None] = []
        while flood.is_alive() or len(during) < 20:
            during.append(door.tap())
            time.sleep(0.01)
        flood_s = time.perf_counter() - started

        print(f"broker: {broker.name}, database: SQLite (WAL), QoS 1, loopback")
        print(describe("known card, quiet broker", quiet))
        print(describe(f"known card, {args.junk} junk taps", during))
        print(f"the flood took {flood_s:.2f} s to publish and deliver")
        door.client.stop()
        ingest.stop()
        ctx.close()
        broker.stop()


if __name__ == "__main__":
    main()
