"""What the fault tests drive: the server and the gateway as real processes (killable,
pausable, restartable), the HTTP API to seed and read them, and the devices' side of the
wire (publishers that play door controllers and occupancy sensors).

Every wait is a poll with a deadline (`wait_until`); every process writes its output to a
file in the test's temporary directory, whose end a failure prints.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import paho.mqtt.client as paho
from support.database import migrated_database, read_rows
from support.waiting import wait_for as wait_until

from devices.config import DoorConfig
from protocol import topics
from protocol.messages import Decision, Message, Result, Status, decode, encode, new_id
from protocol.mqtt import MqttClient
from protocol.policy import PolicySnapshot
from protocol.policy_wire import from_wire
from spacehub.broker import free_port

ROOT = Path(__file__).resolve().parents[2]
SITE_FILE = ROOT / "firmware_configs" / "sites" / "piaseczno.toml"
SITE = "piaseczno"
ADMIN_TOKEN = "faults-admin-token-0123456789abcdef"
CARD_KEY = "faults-card-key-0123456789abcdef"
DOORS = ("reader-main", "reader-sala-a", "reader-sala-b", "reader-cowork")
PIRS = ("pir-sala-a", "pir-sala-b", "pir-cowork")
COUNTERS = ("counter-main", "counter-sala-b")

STRIKE = 17  # the door controllers' pins, on gpiozero's mock pins
PINS = {"strike": STRIKE, "green": 27, "red": 22, "contact": 24, "exit": 25, "fire": 5}

M = TypeVar("M", bound=Message)


def site_file(tmp_path: Path, **access: str) -> Path:
    """A copy of the demo site's file with `[access]` values replaced, e.g.
    `no_show_grace="5s"`; the original when nothing is replaced."""
    if not access:
        return SITE_FILE
    lines = SITE_FILE.read_text().splitlines()
    out, section, replaced = [], "", set()
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        key = stripped.split("=", 1)[0].strip()
        if section == "[access]" and key in access:
            line = f'{key} = "{access[key]}"'
            replaced.add(key)
        out.append(line)
    assert replaced == set(access), f"not in the site file's [access]: {set(access) - replaced}"
    path = tmp_path / "site.toml"
    path.write_text("\n".join(out) + "\n")
    return path


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any SPACEHUB_ variable, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEHUB_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env


# -- processes ----------------------------------------------------------------------------


class Proc:
    """A `spacehub` subcommand as a child process, its output appended to `log_path`.

    `start()` may be called again after `kill()`: the same command and environment
    (a restart)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.args = [sys.executable, "-m", "spacehub.cli", *args]
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        assert not self.running, f"{self.name} is running already"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== {self.name}: start #{self.starts} =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut would (a paused process too)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.proc = None

    def pause(self) -> None:
        """SIGSTOP: the process holds its connections but does nothing (a slow server)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def log_tail(self, lines: int = 60) -> str:
        """The end of the output, without uvicorn's lines for each HTTP request (the tests
        poll the API)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no output)"
        kept = [line for line in text.splitlines() if '- "GET /' not in line]
        return "\n".join(kept[-lines:])


class ServerProc(Proc):
    """`spacehub server --port P` on a database of its own (a SQLite file, or a PostgreSQL
    database: support.database), or on `database` (another replica's URL); `url`,
    `database` (its URL), `wait_healthy()`. A replica (`instance` other than "main")
    subscribes through shared subscriptions."""

    def __init__(
        self,
        tmp: Path,
        mqtt_url: str,
        site_config: Path,
        *,
        instance: str = "main",
        database: str | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = database or migrated_database(tmp / "spacehub.db")
        replica = instance != "main"
        env = clean_env(
            SPACEHUB_DATABASE_URL=self.database,
            SPACEHUB_MQTT_URL=mqtt_url,
            SPACEHUB_ADMIN_TOKEN=ADMIN_TOKEN,
            SPACEHUB_CARD_KEY=CARD_KEY,
            SPACEHUB_SITE_CONFIG=str(site_config.resolve()),
            SPACEHUB_INSTANCE=instance,
            SPACEHUB_SHARED_SUBSCRIPTIONS=str(replica).lower(),
        )
        name = f"server-{instance}" if replica else "server"
        super().__init__(name, ["server", "--port", str(self.port)], env, tmp / f"{name}.log")

    def healthy(self) -> bool:
        try:
            response = httpx.get(f"{self.url}/healthz", timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and response.json().get("mqtt") == "connected"

    def wait_healthy(self, timeout: float = 20.0) -> float:
        """Wait until /healthz says ok with MQTT connected; the seconds it took."""
        began = time.monotonic()

        def up() -> bool:
            assert self.running, f"the server exited:\n{self.log_tail()}"
            return self.healthy()

        wait_until(up, timeout, "server healthy", every=0.05)
        return time.monotonic() - began


class GatewayProc(Proc):
    """`spacehub gateway --site piaseczno --data-dir D` (or another `site`) for a server and
    a broker."""

    def __init__(
        self, tmp: Path, mqtt_url: str, server_url: str, *, site: str = SITE, **env: str
    ) -> None:
        self.data_dir = tmp / "gateway"
        values = {
            "SPACEHUB_SERVER_URL": server_url,
            "SPACEHUB_ADMIN_TOKEN": ADMIN_TOKEN,
            "SPACEHUB_CARD_KEY": CARD_KEY,
            "SPACEHUB_MQTT_URL": mqtt_url,
        }
        super().__init__(
            "gateway",
            ["gateway", "--site", site, "--data-dir", str(self.data_dir)],
            clean_env(**(values | env)),
            tmp / "gateway.log",
        )

    def snapshot(self) -> PolicySnapshot | None:
        """The policy snapshot the gateway keeps on disk, in either wire form (None before
        its first fetch)."""
        try:
            return from_wire(json.loads((self.data_dir / "policy.json").read_text())["snapshot"])
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def wait_for_booking(self, booking_id: int, timeout: float = 15.0) -> None:
        """Wait until the snapshot on the gateway's disk holds booking `booking_id`."""

        def held() -> bool:
            assert self.running, f"the gateway exited:\n{self.log_tail()}"
            snap = self.snapshot()
            return snap is not None and any(b.id == booking_id for b in snap.bookings)

        wait_until(held, timeout, f"booking {booking_id} in the gateway's snapshot", every=0.1)


def door_config(device: str, url: str, data_dir: Path, **timing: str) -> DoorConfig:
    """A door controller of the demo site on the mock pins, with a synced clock."""
    return DoorConfig.model_validate(
        {
            "site": SITE,
            "device": device,
            "data_dir": str(data_dir),
            "mqtt": {"url": url},
            "pins": PINS,
            "timing": {"decision_timeout": "2s", "unlock": "5s"} | timing,
            "clock_synced": True,
        }
    )


# -- the HTTP API -------------------------------------------------------------------------


class Api:
    """The server's HTTP API with the administrator's token."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10.0
        )

    def close(self) -> None:
        self.http.close()

    def _ok(self, response: httpx.Response) -> Any:
        assert response.is_success, f"{response.request.method} {response.request.url}: " + (
            f"{response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self._ok(self.http.get(path, params=params))

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._ok(self.http.post(path, json=body))

    def member(self, name: str, category: str, card: str | None = None) -> int:
        """A new member (with a card, if given); its id."""
        member_id: int = self.post("/api/members", {"name": name, "category": category})["id"]
        if card is not None:
            self.post(f"/api/members/{member_id}/cards", {"uid": card})
        return member_id

    def access_events(self) -> list[dict[str, Any]]:
        return self.get("/api/access-events", limit=1000)  # type: ignore[no-any-return]

    def access_by_id(self) -> dict[str, list[dict[str, Any]]]:
        """Every access-log row, grouped by the tap's id (a tap logged twice shows)."""
        rows: dict[str, list[dict[str, Any]]] = {}
        for row in self.access_events():
            rows.setdefault(row["id"], []).append(row)
        return rows


def query(database: str | Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read a database directly while its program runs: the server's (its URL) or a
    device's SQLite file (read-only; fine while it runs: WAL)."""
    return read_rows(database if isinstance(database, str) else f"sqlite:///{database}", sql, *args)


def retained(url: str, topic: str, model: type[M], timeout: float = 5.0) -> M | None:
    """The message retained on `topic` (None when none comes within `timeout`)."""
    got: list[M] = []
    arrived = threading.Event()

    def on(msg: paho.MQTTMessage) -> None:
        if msg.payload:
            got.append(decode(model, bytes(msg.payload)))
            arrived.set()

    client = MqttClient(url, client_id=f"test-look-{new_id()[:8]}")
    client.subscribe(topic, on)
    client.start()
    try:
        arrived.wait(timeout)
    finally:
        client.stop()
    return got[-1] if got else None


def wait_status(url: str, topic: str, state: str, timeout: float = 10.0) -> Status:
    """Wait until the Status retained on `topic` says `state` (e.g. a last will's
    "offline"); that Status."""

    def says() -> Status | None:
        status = retained(url, topic, Status, 0.5)
        return status if status is not None and status.state == state else None

    return wait_until(says, timeout, f"{topic} saying {state}", every=0.05)


def wait_synced(database: str, devices: Iterable[str] = DOORS, timeout: float = 10.0) -> None:
    """Wait until the server has stored each device's status saying its clock is synced
    (it judges a tap's age only then)."""
    ids = list(devices)
    marks = ", ".join("?" * len(ids))
    sql = f"SELECT COUNT(*) FROM devices WHERE clock_synced AND id IN ({marks})"
    wait_until(
        lambda: query(database, sql, *ids)[0][0] == len(ids),
        timeout,
        f"the synced statuses of {', '.join(ids)} stored by the server",
    )


# -- the devices' side of the wire --------------------------------------------------------


@dataclass(frozen=True)
class Heard:
    topic: str
    device: str
    message: Any
    at: float  # time.monotonic() when it arrived
    wall: datetime  # and by the wall clock


@dataclass
class Sent:
    topic: str
    payload: bytes
    info: paho.MQTTMessageInfo | None  # None: held back, the broker was away
    at: float  # time.monotonic() just before the first publish
    tries: int = 1


class Wire:
    """One MQTT connection playing devices of the site: publishes their events at QoS 1
    (keeping each until the broker acknowledged it, and sending again what was not once
    the broker is back), and hears the Decisions (and, if asked, Results) sent to doors."""

    def __init__(
        self,
        url: str,
        *,
        results: bool = False,
        name: str = "wire",
        persistent: bool = False,
        doors: bool = False,
    ) -> None:
        """`persistent`: a fixed client id and a persistent session, so that what is
        sent to doors while this client is away (the broker restarting) is heard too.
        `doors`: answer each Decision heard with the door's Result, as a door does."""
        self.doors = doors
        self.heard: list[Heard] = []
        self._cond = threading.Condition()
        self._sent: list[Sent] = []
        self._held: list[Sent] = []  # sent while there was no connection, not yet published
        self._lock = threading.Lock()
        self.client = MqttClient(
            url,
            client_id=f"test-{name}" if persistent else f"test-{name}-{new_id()[:8]}",
            clean_session=not persistent,
        )
        self.client.subscribe(topics.all_commands(SITE, "decision"), self._on(Decision))
        if results:
            self.client.subscribe(topics.all_events(SITE, "result"), self._on(Result))
        self.client.start()
        assert self.client.wait_connected(10), f"{name}: no connection to {url}"

    def _on(self, model: type[Message]) -> Callable[[paho.MQTTMessage], None]:
        def handle(msg: paho.MQTTMessage) -> None:
            heard = Heard(
                msg.topic,
                topics.parse(msg.topic).device or "",
                decode(model, bytes(msg.payload)),
                time.monotonic(),
                datetime.now(UTC),
            )
            with self._cond:
                self.heard.append(heard)
                self._cond.notify_all()
            message = heard.message
            if self.doors and isinstance(message, Decision):
                done = Result(
                    id=new_id(),
                    tap=message.id,
                    applied=message.by,
                    granted=message.granted,
                    ts=heard.wall,
                    reason=message.reason,
                )
                self.send(topics.result(SITE, heard.device), done)

        return handle

    # -- sending --------------------------------------------------------------------------

    def send(self, topic: str, message: Message | bytes) -> Sent:
        """Publish at QoS 1 without waiting (held back while there is no connection);
        `settle()` makes sure it arrived."""
        payload = message if isinstance(message, bytes) else encode(message)
        sent = Sent(topic, payload, None, time.monotonic())
        with self._lock:
            if self.client.connected:
                for held in self._held:  # in order: what waited for the broker goes first
                    held.info = self.client.publish(held.topic, held.payload)
                self._held.clear()
                sent.info = self.client.publish(topic, payload)
            else:
                self._held.append(sent)
            self._sent.append(sent)
        return sent

    def send_now(self, topic: str, message: Message | bytes, timeout: float = 5.0) -> float:
        """Publish and wait for the broker's acknowledgement; the time before publishing."""
        sent = self.send(topic, message)
        assert sent.info is not None, f"no connection to send {topic}"
        sent.info.wait_for_publish(timeout)
        assert sent.info.is_published(), f"not acknowledged in {timeout:g} s: {topic}"
        return sent.at

    def retain(self, topic: str, message: Message) -> None:
        self.client.publish(topic, message, retain=True).wait_for_publish(5)

    def door_statuses(self, doors: Iterable[str] = DOORS, *, synced: bool = True) -> None:
        """Each door's retained online Status with a synced clock, as door controllers
        publish when they connect."""
        for door in doors:
            status = Status(state="online", kind="door", ts=datetime.now(UTC), clock_synced=synced)
            self.retain(topics.status(SITE, door), status)

    def settle(self, timeout: float, *, resend_after: float = 2.0) -> int:
        """Wait until the broker has acknowledged everything sent: what was held back is
        published once connected, and what is still not acknowledged `resend_after`
        seconds into a connection is published again (paho reports a message published
        as its connection broke as failed). Returns how many were published again."""
        deadline = time.monotonic() + timeout
        resent = 0
        connected_since: float | None = None
        while True:
            with self._lock:
                waiting = [s for s in self._sent if not _acked(s.info)]
            if not waiting:
                return resent
            now = time.monotonic()
            assert now < deadline, f"{len(waiting)} message(s) never acknowledged by the broker"
            if not self.client.connected:
                connected_since = None
            else:
                if connected_since is None:
                    connected_since = now
                again = now - connected_since >= resend_after
                with self._lock:
                    for s in waiting:
                        if s.info is None or again:
                            resent += s.info is not None
                            s.info = self.client.publish(s.topic, s.payload)
                            s.tries += 1
                    self._held.clear()
                if again:
                    connected_since = now
            time.sleep(0.05)

    # -- hearing --------------------------------------------------------------------------

    def decisions(self, tap_id: str | None = None) -> list[Heard]:
        with self._cond:
            return [
                h
                for h in self.heard
                if isinstance(h.message, Decision) and (tap_id is None or h.message.id == tap_id)
            ]

    def results(self, tap_id: str | None = None) -> list[Heard]:
        with self._cond:
            return [
                h
                for h in self.heard
                if isinstance(h.message, Result) and (tap_id is None or h.message.tap == tap_id)
            ]

    def first_decision(self, tap_id: str, timeout: float = 5.0) -> Heard:
        with self._cond:
            ok = self._cond.wait_for(lambda: self.decisions(tap_id), timeout)
            assert ok, f"no decision for tap {tap_id} within {timeout:g} s"
            return self.decisions(tap_id)[0]

    def stop(self) -> None:
        self.client.stop()


def _acked(info: paho.MQTTMessageInfo | None) -> bool:
    if info is None:
        return False
    try:
        return info.is_published()
    except (RuntimeError, ValueError):  # published while disconnected: paho's rc says so
        return False
