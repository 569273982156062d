"""Tap-to-decision latency through the real server, next to a bare broker round trip.

Both are measured in one run over the same broker: the bare round trip is a device
publishing to a topic that an echo client answers at once (the two broker hops a tap
needs, with no decision made); the tap figure adds the server's decide-and-record work.

    .venv/bin/python bench/tap_latency.py [--taps 2000] [--broker auto|mosquitto|embedded]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from protocol import topics  # noqa: E402
from protocol.cards import card_hash  # noqa: E402
from protocol.messages import Tap, new_id, utcnow  # noqa: E402
from protocol.mqtt import MqttClient  # noqa: E402
from server.adapters.door_ingest import DoorIngest  # noqa: E402
from server.context import ServerContext  # noqa: E402
from server.db import models  # noqa: E402
from server.db.meta import bump  # noqa: E402
from server.settings import Settings  # noqa: E402
from spacehub.broker import free_port, start_broker  # noqa: E402

SITE, DEVICE, CARD, KEY = "piaseczno", "reader-main", "04A1B2C3", "bench-card-key-0123456789"


def staff_door_path(broker_url: str, tmp: str) -> tuple[ServerContext, DoorIngest]:
    """A server's door path on a fresh database in `tmp` whose one member, Ewa, is staff
    with the card CARD (granted at every door), started."""
    settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", mqtt_url=broker_url, card_key=KEY)
    ctx = ServerContext.create(settings)
    with ctx.writes() as s, s.begin():
        member = models.Member(name="Ewa Nowak", category="staff")
        s.add(member)
        s.flush()
        s.add(models.Card(member_id=member.id, uid_hash=card_hash(KEY, CARD)))
        bump(s)
    ingest = DoorIngest(ctx)
    ingest.start()
    return ctx, ingest


def round_trips(client: MqttClient, publish_topic: str, reply: threading.Event, n: int, make):  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(n):
        reply.clear()
        started = time.perf_counter()
        client.publish(publish_topic, make())
        if not reply.wait(5):
            raise RuntimeError("no answer within 5 s")
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def describe(name: str, samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    median = statistics.median(samples)
    return f"{name:<24} median {median:6.2f} ms   p99 {q[98]:6.2f} ms   (n={len(samples)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=2000)
    parser.add_argument("--broker", default="auto", choices=["auto", "mosquitto", "embedded"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        broker = start_broker(args.broker, port=free_port(), data_dir=Path(tmp) / "broker")
        ctx, ingest = staff_door_path(broker.url, tmp)

        reply = threading.Event()
        device = MqttClient(broker.url, client_id="bench-device")
        device.subscribe(topics.decision(SITE, DEVICE), lambda m: reply.set())
        device.subscribe("bench/pong", lambda m: reply.set())
        echo = MqttClient(broker.url, client_id="bench-echo")
        echo.subscribe("bench/ping", lambda m: echo.publish("bench/pong", m.payload))
        for c in (device, echo):
            c.start()
            c.wait_connected(10)
        ingest.wait_connected(10)
        time.sleep(0.3)  # let the subscriptions settle

        make_tap = lambda: Tap(id=new_id(), ts=utcnow(), card=CARD)  # noqa: E731
        round_trips(device, "bench/ping", reply, 100, lambda: b"warm-up")
        round_trips(device, topics.tap(SITE, DEVICE), reply, 100, make_tap)
        bare = round_trips(device, "bench/ping", reply, args.taps, lambda: b'{"v":1}')
        taps = round_trips(device, topics.tap(SITE, DEVICE), reply, args.taps, make_tap)

        print(f"broker: {broker.name}, database: SQLite (WAL), QoS 1, loopback")
        print(describe("bare broker round trip", bare))
        print(describe("tap to decision", taps))
        print(
            f"server's share (median): {statistics.median(taps) - statistics.median(bare):.2f} ms"
        )

        for c in (device, echo):
            c.stop()
        ingest.stop()
        ctx.close()
        broker.stop()


if __name__ == "__main__":
    main()
