"""Resident memory of a door controller (`spacehub door`) and of the sensor program
(`spacehub sensor`), each a process of its own on gpiozero's mock pins, once connected
to the broker and settled. (The server's, holding 10,000 members and 1,000,000 bookings,
is in bench/bookings.py, which builds that database.)

    .venv/bin/python bench/memory.py [--quick] [--rows FILE]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import ROOT, SITE, Report, Row  # noqa: E402
from protocol import topics  # noqa: E402
from protocol.messages import Status, decode  # noqa: E402
from protocol.mqtt import MqttClient  # noqa: E402

TARGETS = {"door": 35.0, "sensor": None}


def config(tmp: Path, device: str, url: str) -> Path:
    """The device's file from firmware_configs with the broker and data folder replaced."""
    text = (ROOT / "firmware_configs" / "devices" / f"{device}.toml").read_text()
    text = re.sub(r'(?m)^url = ".*"', f'url = "{url}"', text)
    text = text.replace(f'device = "{device}"', f'device = "{device}"\ndata_dir = "{tmp / device}"')
    path = tmp / f"{device}.toml"
    path.write_text(text)
    return path


def online(url: str, device: str, timeout: float = 30.0) -> bool:
    """Whether the device's retained status says online within `timeout`."""
    seen: list[str] = []
    client = MqttClient(url, client_id=f"bench-watch-{device}")
    client.subscribe(
        topics.status(SITE, device), lambda m: seen.append(decode(Status, bytes(m.payload)).state)
    )
    client.start()
    deadline = time.monotonic() + timeout
    while "online" not in seen and time.monotonic() < deadline:
        time.sleep(0.1)
    client.stop()
    return "online" in seen


def measure(command: str, device: str, url: str, tmp: Path, settle: float) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEHUB_")}
    env["GPIOZERO_PIN_FACTORY"] = "mock"
    path = config(tmp, device, url)
    with (tmp / f"{device}.log").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "spacehub.cli", command, "--config", str(path)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        if not online(url, device):
            raise RuntimeError(
                f"{device} never came online:\n{(tmp / f'{device}.log').read_text()}"
            )
        time.sleep(settle)
        return common.rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> None:
    args = common.arguments(__doc__, settle=(5, 1))
    report = Report(args.rows)
    kind = common.brokers(args.broker)[0]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with common.broker(kind, tmp / "broker") as b:
            door = measure("door", "reader-main", b.url, tmp, args.settle)
            sensor = measure("sensor", "counter-main", b.url, tmp, args.settle)
    report.add(Row("door controller RSS (spacehub door)", door, "MB", None, "< 35 MB", door < 35))
    report.add(Row("sensor program RSS (spacehub sensor)", sensor, "MB"))


if __name__ == "__main__":
    main()
