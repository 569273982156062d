"""The gateway's decision latency with the server down, next to a bare echo, in one run
over the same broker.

`spacehub server` and `spacehub gateway` run as processes of their own; once the gateway
holds the server's policy snapshot the server is stopped (its retained status says
offline) and a bench door taps `--taps` times, sending each Result as the protocol says,
alternating with the bare echo of the same payload (bench/common.py).

    .venv/bin/python bench/gateway_latency.py [--quick] [--rows FILE] [--broker both]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import KEY, ROOT, SITE, TOKEN, Report  # noqa: E402
from bench.tap_latency import open_doors, sequential, server_db  # noqa: E402


def start_gateway(tmp: Path, mqtt_url: str, server_url: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEHUB_")}
    env |= {
        "SPACEHUB_SERVER_URL": server_url,
        "SPACEHUB_ADMIN_TOKEN": TOKEN,
        "SPACEHUB_CARD_KEY": KEY,
        "SPACEHUB_MQTT_URL": mqtt_url,
    }
    data = tmp / "gateway"
    with (tmp / "gateway.log").open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "spacehub.cli",
                "gateway",
                "--site",
                SITE,
                "--data-dir",
                str(data),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while not (data / "policy.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"no snapshot at the gateway:\n{(tmp / 'gateway.log').read_text()}")
        time.sleep(0.1)
    return proc


def measure(kind: str, tmp: Path, args: object, report: Report) -> None:
    site = common.bench_site(tmp)
    with common.broker(kind, tmp / "broker") as b, common.echo(b.url):
        server_db(tmp, b.url, site, "bench.db")
        server = common.ServerProcess(tmp, b.url, site)
        gateway = start_gateway(tmp, b.url, server.url)
        try:
            server.stop()
            door = open_doors(b.url, common.BENCH_DOORS[:1])[0]
            deadline = time.monotonic() + 20
            while door.tap() > 300:  # the gateway still waits its takeover time for the server
                if time.monotonic() > deadline:
                    raise RuntimeError("the gateway never took over")
            sequential(door, 50)  # warm-up
            taps, bare = sequential(door, args.taps)  # type: ignore[attr-defined]
            door.client.stop()
        finally:
            gateway.terminate()
            gateway.wait(15)
    report.latencies(
        f"gateway tap → decision, server down, {kind}, {args.taps:,} sequential",  # type: ignore[attr-defined]
        taps,
        bare,
        limits=(("p99", 3),),
    )


def main() -> None:
    args = common.arguments(__doc__, taps=(1000, 40))
    report = Report(args.rows)
    for kind in common.brokers(args.broker):
        with tempfile.TemporaryDirectory() as tmp:
            measure(kind, Path(tmp), args, report)


if __name__ == "__main__":
    main()
