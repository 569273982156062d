"""What every bench script shares: percentiles, rows for the report, brokers, a bare
echo, a bench site with 20 more doors, a seeded database and the server as a process.

A script measures its figure next to a baseline measured in the same run and reports
`Row`s: printed as it goes, and appended as JSON lines to the file given by `--rows`
(bench/report.py collects them into one table). `--quick` shrinks every size to a smoke
run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protocol.cards import card_hash  # noqa: E402
from spacehub.broker import free_port, start_broker, wait_for_port  # noqa: E402

SITE = "piaseczno"
SITE_FILE = ROOT / "firmware_configs" / "sites" / "piaseczno.toml"
CARD, KEY = "04A1B2C3", "bench-card-key-0123456789"
TOKEN = "bench-admin-token-0123456789"
BENCH_DOORS = tuple(f"bench-door-{i:02d}" for i in range(1, 21))


# -- figures ---------------------------------------------------------------------------------


def pct(samples: list[float], p: int) -> float:
    """The `p`th percentile (1..99) of `samples`, interpolated."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50": pct(samples, 50), "p95": pct(samples, 95), "p99": pct(samples, 99)}


@dataclass
class Row:
    """One line of the report. `ratio` is value / baseline; `holds` is None when the row
    has no target."""

    measure: str
    value: float
    unit: str
    baseline: float | None = None
    target: str = ""
    holds: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline:
            return None
        return self.value / self.baseline


class Report:
    """Rows of one script: printed, and appended to `path` as JSON lines when given."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.rows: list[Row] = []

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        base = f" vs {row.baseline:.2f}" if row.baseline is not None else ""
        holds = {None: "", True: "  holds", False: "  MISSES"}[row.holds]
        print(f"{row.measure:<58} {row.value:10.2f} {row.unit}{base}  {row.target}{holds}")
        if self.path is not None:
            with self.path.open("a") as f:
                f.write(json.dumps(asdict(row) | {"ratio": row.ratio}) + "\n")
        return row

    def ratio(self, measure: str, value: float, baseline: float, limit: float, unit="ms") -> Row:  # type: ignore[no-untyped-def]
        """A row whose target is value <= limit x baseline."""
        return self.add(
            Row(measure, value, unit, baseline, f"≤ {limit:g}× baseline", value <= limit * baseline)
        )

    def latencies(  # type: ignore[no-untyped-def]
        self, what: str, samples: list[float], bare: list[float], limits=(("p50", 2), ("p99", 3))
    ) -> None:
        """p50/p95/p99 of `samples` against the same of `bare`; targets on the `limits`."""
        ours, base = summary(samples), summary(bare)
        bounded = dict(limits)
        for p in ("p50", "p95", "p99"):
            if p in bounded:
                self.ratio(f"{what} {p}", ours[p], base[p], bounded[p])
            else:
                self.add(Row(f"{what} {p}", ours[p], "ms", base[p]))


def arguments(doc: str | None, **sizes: tuple[int, int]) -> argparse.Namespace:
    """Parse `--rows`, `--quick` and one `--name` per size (full, quick); a size not given
    is the full one, or the quick one under --quick."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--rows", help="append the rows as JSON lines to this file")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--broker", default="both", choices=["both", "mosquitto", "embedded"])
    for name in sizes:
        parser.add_argument("--" + name.replace("_", "-"), type=int)
    args = parser.parse_args()
    for name, (full, quick) in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    return args


def brokers(choice: str) -> list[str]:
    """The brokers to measure: both by default (embedded only where Mosquitto is missing)."""
    from spacehub.broker import mosquitto_path

    if choice != "both":
        return [choice]
    return ["mosquitto", "embedded"] if mosquitto_path() else ["embedded"]


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


# -- brokers ---------------------------------------------------------------------------------


def _embedded(port: int) -> None:
    import contextlib
    import logging

    from spacehub.broker import run_embedded

    logging.disable(logging.CRITICAL)  # the port probe's "no data" complaints
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        run_embedded(port)


class Broker:
    """Mosquitto, or the embedded broker in a process of its own (as `spacehub broker`
    runs it), so that the measuring process's interpreter never serves the broker."""

    def __init__(self, kind: str, data_dir: Path) -> None:
        self.name = kind
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self._mosquitto = None
        self._proc: multiprocessing.process.BaseProcess | None = None
        if kind == "mosquitto":
            self._mosquitto = start_broker("mosquitto", port=self.port, data_dir=data_dir)
        else:
            self._proc = multiprocessing.get_context("spawn").Process(
                target=_embedded, args=(self.port,), daemon=True
            )
            self._proc.start()
            wait_for_port("127.0.0.1", self.port, 20)

    def stop(self) -> None:
        if self._mosquitto is not None:
            self._mosquitto.stop()
        if self._proc is not None:
            self._proc.terminate()
            self._proc.join(10)


@contextmanager
def broker(kind: str, data_dir: Path) -> Iterator[Broker]:
    b = Broker(kind, data_dir)
    try:
        yield b
    finally:
        b.stop()


@contextmanager
def one_broker(choice: str) -> Iterator[tuple[Path, Path, Broker]]:
    """A temporary folder, the bench site in it, and the first broker of `choice` on it."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        site = bench_site(tmp)
        with broker(brokers(choice)[0], tmp / "broker") as b:
            yield tmp, site, b


# -- the bare echo ---------------------------------------------------------------------------


def _echo(url: str, ready: Any) -> None:
    """Answer every message on bench/ping/<door> at once on bench/pong/<door> with the
    same payload, at QoS 1; take bench/result/<door> (and do nothing with it)."""
    from protocol.mqtt import MqttClient

    client = MqttClient(url, client_id=f"bench-echo-{os.getpid()}")

    def on_ping(msg: Any) -> None:
        client.publish("bench/pong/" + msg.topic.rsplit("/", 1)[1], bytes(msg.payload))

    client.subscribe("bench/ping/+", on_ping)
    client.subscribe("bench/result/+", lambda m: None)
    client.start()
    client.wait_connected(10)
    ready.set()
    while True:
        time.sleep(3600)


@contextmanager
def echo(url: str) -> Iterator[None]:
    """The bare echo: a paho client in a process of its own that does what the server
    does for a tap (take it, answer it, take the door's Result) with no decision."""
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_echo, args=(url, ready), daemon=True)
    proc.start()
    if not ready.wait(20):
        raise RuntimeError("the echo did not start")
    time.sleep(0.3)
    try:
        yield
    finally:
        proc.terminate()
        proc.join(10)


# -- the site, the database and the server ---------------------------------------------------


def bench_site(tmp: Path, rooms: int = 0, name: str = "site.toml", **access: str) -> Path:
    """The demo site with 20 more doors at the main entrance (`BENCH_DOORS`), `rooms`
    more bookable meeting rooms (`room-0000`, ...), and the `[access]` values given
    replaced (e.g. no_show_grace="2s")."""
    lines = []
    section = ""
    for line in SITE_FILE.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        key = stripped.split("=", 1)[0].strip()
        if section == "[access]" and key in access:
            line = f'{key} = "{access[key]}"'
        lines.append(line)
    for door in BENCH_DOORS:
        lines += ["", "[[devices]]", f'id = "{door}"', 'kind = "door"', 'room = "main"']
        lines.append(f'door = "{door}"')
    for i in range(rooms):
        lines += ["", "[[rooms]]", f'id = "room-{i:04d}"', f'name = "Sala {i}"']
        lines += ['kind = "meeting"', "capacity = 10", "bookable = true"]
    path = tmp / name
    path.write_text("\n".join(lines) + "\n")
    return path


def settings(tmp: Path, broker_url: str, site: Path, name: str = "bench.db"):  # type: ignore[no-untyped-def]
    from server.settings import Settings

    return Settings(
        database_url=f"sqlite:///{tmp}/{name}",
        mqtt_url=broker_url,
        card_key=KEY,
        admin_token=TOKEN,
        site_config=site,
    )


def seed_staff(ctx: Any) -> int:
    """Ewa, staff, with the card CARD (granted at every door); her member id."""
    from server.db import models
    from server.db.meta import bump

    with ctx.writes() as s, s.begin():
        member = models.Member(name="Ewa Nowak", category="staff")
        s.add(member)
        s.flush()
        s.add(models.Card(member_id=member.id, uid_hash=card_hash(KEY, CARD)))
        bump(s)
        return member.id


class ServerProcess:
    """`spacehub server` as a child process on a database seeded beforehand."""

    def __init__(self, tmp: Path, broker_url: str, site: Path, db: str = "bench.db") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEHUB_")}
        env |= {
            "SPACEHUB_DATABASE_URL": f"sqlite:///{tmp}/{db}",
            "SPACEHUB_MQTT_URL": broker_url,
            "SPACEHUB_ADMIN_TOKEN": TOKEN,
            "SPACEHUB_CARD_KEY": KEY,
            "SPACEHUB_SITE_CONFIG": str(site),
            "PYTHONUNBUFFERED": "1",
        }
        self.log = tmp / f"server-{self.port}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "spacehub.cli", "server", "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log.read_text()[-3000:]}")
            try:
                r = httpx.get(f"{self.url}/healthz", timeout=1.0)
                if r.status_code == 200 and r.json().get("mqtt") == "connected":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not get healthy:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
