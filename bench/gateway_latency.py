"""The gateway's decision latency with the server down, next to the server's own, in one
run over the same broker.

    .venv/bin/python bench/gateway_latency.py [--taps 500] [--broker auto|mosquitto|embedded]

First the server answers (the gateway watches and stays silent); then the server is
stopped (its door path says offline, as its last will would) and the gateway answers
every tap from its policy snapshot.
"""

from __future__ import annotations

import argparse
import logging
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn  # noqa: E402

from gateway.config import GatewaySettings  # noqa: E402
from gateway.gateway import Gateway  # noqa: E402
from protocol import topics  # noqa: E402
from protocol.messages import Decision, Tap, decode, new_id, utcnow  # noqa: E402
from protocol.mqtt import MqttClient  # noqa: E402
from server.app import create_app  # noqa: E402
from server.context import ServerContext  # noqa: E402
from server.people import members  # noqa: E402
from server.settings import Settings  # noqa: E402
from spacehub.broker import free_port, start_broker  # noqa: E402

SITE, DEVICE, CARD = "piaseczno", "reader-main", "04A1B2C3"
KEY, TOKEN = "bench-card-key-0123456789", "bench-admin-token-0123456789"


def measure(device: MqttClient, answers: queue.Queue[Decision], n: int) -> tuple[list, set]:
    samples, by = [], set()
    for _ in range(n):
        tap = Tap(id=new_id(), ts=utcnow(), card=CARD)
        started = time.perf_counter()
        device.publish(topics.tap(SITE, DEVICE), tap)
        while True:
            decision = answers.get(timeout=5)
            if decision.id == tap.id:
                break
        samples.append((time.perf_counter() - started) * 1000)
        by.add(decision.by)
    return samples, by


def describe(name: str, samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return (
        f"{name:<34} median {statistics.median(samples):6.2f} ms   p99 {q[98]:6.2f} ms"
        f"   (n={len(samples)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=500)
    parser.add_argument("--broker", default="auto", choices=["auto", "mosquitto", "embedded"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp:
        broker = start_broker(args.broker, port=free_port(), data_dir=Path(tmp) / "broker")
        settings = Settings(
            database_url=f"sqlite:///{tmp}/bench.db",
            mqtt_url=broker.url,
            card_key=KEY,
            admin_token=TOKEN,
        )
        ctx = ServerContext.create(settings)
        with ctx.writes() as s, s.begin():
            staff = members.create_member(s, name="Ewa Nowak", category="staff")
            members.add_card(s, card_key=KEY, member_id=staff.id, uid=CARD)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings, ctx=ctx), port=port, log_level="error")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)

        gateway = Gateway(
            GatewaySettings(
                site=SITE,
                mqtt_url=broker.url,
                server_url=f"http://127.0.0.1:{port}",
                admin_token=TOKEN,
                card_key=KEY,
            ),
            Path(tmp) / "gateway",
        )
        gateway.start()
        gateway.wait_for_snapshot(timeout=10)

        answers: queue.Queue[Decision] = queue.Queue()
        device = MqttClient(broker.url, client_id="bench-door")
        device.subscribe(
            topics.decision(SITE, DEVICE), lambda m: answers.put(decode(Decision, m.payload))
        )
        device.start()
        device.wait_connected(10)
        time.sleep(0.5)

        measure(device, answers, 50)  # warm-up
        by_server, who_server = measure(device, answers, args.taps)
        server.should_exit = True  # the door path stops and says offline
        thread.join(15)
        deadline = time.monotonic() + 10
        while gateway.server_online() and time.monotonic() < deadline:
            time.sleep(0.05)
        by_gateway, who_gateway = measure(device, answers, args.taps)

        print(f"broker: {broker.name}, QoS 1, loopback; gateway takeover 500 ms")
        print(describe(f"server up (answered by {'/'.join(sorted(who_server))})", by_server))
        print(describe(f"server down (answered by {'/'.join(sorted(who_gateway))})", by_gateway))

        device.stop()
        gateway.stop()
        ctx.close()
        broker.stop()


if __name__ == "__main__":
    main()
