"""Run every bench script and print one Markdown table, also written to bench/results.md
with the machine, the brokers and the date (`make bench`).

Each script runs in a process of its own and appends its rows (bench/common.py `Row`)
as JSON lines to one file; the table has a row per figure: its value, the baseline
measured in the same run (a bare echo or a bare subscriber), their ratio, the target
and whether it holds.

    .venv/bin/python bench/report.py [--quick] [--out bench/results.md] [--only tap_latency]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
# In the order they run; the longest last but one, the sensitive ones first.
SCRIPTS = (
    "tap_latency",
    "gateway_latency",
    "sensor_ingest",
    "sensor_to_dashboard",
    "tap_flood",
    "memory",
    "bookings",
)


def machine() -> list[str]:
    """What the figures were measured on."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- Machine: {cpu}, {os.cpu_count()} cores, {mem} memory; {platform.system()} "
        f"{platform.release()}; load average at the start {load}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"paho-mqtt {metadata.version('paho-mqtt')}",
        f"- Brokers: {mosquitto_version()}; embedded amqtt {metadata.version('amqtt')}",
    ]


def mosquitto_version() -> str:
    sys.path.insert(0, str(HERE.parent))
    from spacehub.broker import mosquitto_path

    path = mosquitto_path()
    if path is None:
        return "Mosquitto not installed"
    out = subprocess.run([path, "-h"], capture_output=True, text=True, timeout=10).stdout
    return out.splitlines()[0].strip() if out else "Mosquitto (version unknown)"


def number(x: float | None, unit: str = "") -> str:
    if x is None:
        return ""
    text = f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}"
    return f"{text} {unit}".strip()


def table(rows: list[dict]) -> list[str]:
    out = [
        "| measure | value | baseline | ratio | target | holds |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        ratio = f"{r['ratio']:.2f}×" if r.get("ratio") is not None else ""
        holds = {None: "", True: "yes", False: "**no**"}[r.get("holds")]
        out.append(
            f"| {r['measure']} | {number(r['value'], r['unit'])} | "
            f"{number(r.get('baseline'), r['unit'])} | {ratio} | {r.get('target', '')} | {holds} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--out", default=str(HERE / "results.md"))
    parser.add_argument("--only", action="append", choices=SCRIPTS, help="these scripts only")
    args = parser.parse_args()
    header = machine()
    began = time.monotonic()
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        rows_file = Path(tmp) / "rows.jsonl"
        rows_file.touch()
        for name in args.only or SCRIPTS:
            print(f"== bench/{name}.py", flush=True)
            command = [sys.executable, str(HERE / f"{name}.py"), "--rows", str(rows_file)]
            if args.quick:
                command.append("--quick")
            if subprocess.run(command, cwd=HERE.parent).returncode != 0:
                failed.append(name)
        rows = [json.loads(line) for line in rows_file.read_text().splitlines() if line]
    minutes = (time.monotonic() - began) / 60
    lines = [
        "# Benchmark results",
        "",
        f"`make bench`{' (--quick)' if args.quick else ''}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {minutes:.1f} min.",
        "",
        *header,
        "",
        *table(rows),
    ]
    if failed:
        lines += ["", "Scripts that failed: " + ", ".join(failed)]
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print()
    print(text)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
