"""How long a sensor event takes to reach an open dashboard's event stream.

    .venv/bin/python bench/sensor_to_dashboard.py [--events 300] [--broker auto|mosquitto|embedded]

A people counter reports one person entering at a time; each report changes the room's
count, so the server pushes a `room` event to `GET /api/stream`. Measured from the
counter's publish to the moment the event is read from the stream, over HTTP, in one run
with the real server (uvicorn), broker and sensor ingest.
"""

from __future__ import annotations

import argparse
import json
import logging
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from protocol import topics  # noqa: E402
from protocol.messages import Count, new_id, utcnow  # noqa: E402
from protocol.mqtt import MqttClient  # noqa: E402
from server.app import create_app  # noqa: E402
from server.context import ServerContext  # noqa: E402
from server.settings import Settings  # noqa: E402
from spacehub.broker import free_port, start_broker  # noqa: E402

SITE, SENSOR, ROOM = "piaseczno", "counter-sala-b", "sala-b"
TOKEN = "bench-admin-token-0123456789"


def read_stream(url: str, people: queue.Queue[tuple[int, float]], stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.stream("GET", url, headers=headers, timeout=None) as response:
            kind = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "room":
                    data = json.loads(line[6:])
                    if data["id"] == ROOM and data["people"] is not None:
                        people.put((data["people"], time.perf_counter()))
    except httpx.HTTPError:
        if not stop.is_set():
            raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--broker", default="auto", choices=["auto", "mosquitto", "embedded"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp:
        broker = start_broker(args.broker, port=free_port(), data_dir=Path(tmp) / "broker")
        settings = Settings(
            database_url=f"sqlite:///{tmp}/bench.db",
            mqtt_url=broker.url,
            admin_token=TOKEN,
            card_key="bench-card-key-0123456789",
        )
        ctx = ServerContext.create(settings)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, ctx=ctx),
                port=port,
                log_level="critical",  # the open stream is cut at shutdown, as meant
                timeout_graceful_shutdown=1,
            )
        )
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)

        people: queue.Queue[tuple[int, float]] = queue.Queue()
        stop = threading.Event()
        reader = threading.Thread(
            target=read_stream, args=(f"http://127.0.0.1:{port}/api/stream", people, stop)
        )
        reader.daemon = True
        reader.start()
        sensor = MqttClient(broker.url, client_id="bench-counter")
        sensor.start()
        sensor.wait_connected(10)
        time.sleep(1.5)  # the stream's snapshot, the ingest's subscriptions

        boot, samples = new_id(), []
        for seq in range(1, args.events + 1):
            event = Count(id=new_id(), ts=utcnow(), entered=1, boot=boot[:20], seq=seq)
            started = time.perf_counter()
            sensor.publish(topics.count(SITE, SENSOR), event)
            while True:
                count, seen = people.get(timeout=5)
                if count == seq:
                    break
            samples.append((seen - started) * 1000)
            time.sleep(0.02)  # sensors report at most once a second; don't batch them up

        q = statistics.quantiles(samples, n=100)
        print(f"broker: {broker.name}; sensor ingest commits in batches of up to 50 ms")
        print(
            f"sensor event to dashboard stream   median {statistics.median(samples):6.1f} ms"
            f"   p95 {q[94]:6.1f} ms   p99 {q[98]:6.1f} ms   (n={len(samples)}; goal: p95 < 250 ms)"
        )
        stop.set()
        sensor.stop()
        server.should_exit = True
        time.sleep(1.5)
        ctx.close()
        broker.stop()


if __name__ == "__main__":
    main()
