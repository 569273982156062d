"""`spacehub demo` as a user meets it: started as a child process on free ports, its banner
shown again on SIGUSR1, its `try:` command working as printed, a Ctrl-C that stops it all
within three seconds (with a dashboard's event stream open) and exits 0 with a clear last
line, devices that say offline themselves, and `--reset` starting over."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from protocol import topics
from protocol.messages import Status, decode
from protocol.mqtt import MqttClient
from spacehub.banner import Running, banner, program, tap_hint
from spacehub.broker import MosquittoBroker, free_port, mosquitto_path
from spacehub.demo import RUN_STATE, reset
from spacehub.ports import free_ports

# The demo runs as a subprocess with its own broker: not for `make test-fast`.
pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "demo-test-token-0123456789"
SITE = "piaseczno"
END_OF_BANNER = "Ctrl-C stops everything."
STOPPED = "spacehub demo: stopped in "
DEVICES = (
    "reader-main",
    "reader-sala-a",
    "reader-sala-b",
    "reader-cowork",
    "counter-main",
    "pir-sala-a",
    "pir-sala-b",
    "counter-sala-b",
    "pir-cowork",
)


@dataclass
class Demo:
    proc: subprocess.Popen[bytes]
    log: Path
    http_port: int
    mqtt_port: int
    data_dir: Path

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.output
            if check(text):
                return text
            if self.proc.poll() is not None:
                raise AssertionError(f"the demo exited ({self.proc.returncode}):\n{text}")
            time.sleep(0.05)
        raise AssertionError(f"{what}: not within {timeout} s:\n{self.output}")

    def stop(self, *, group: bool = False) -> tuple[int, float]:
        """Ctrl-C (to the demo's whole process group, as a terminal sends it, with
        `group`); its exit status and how long it took."""
        began = time.monotonic()
        if group:
            os.killpg(self.proc.pid, signal.SIGINT)
        else:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the demo did not stop in 10 s:\n{self.output}") from None
        return code, time.monotonic() - began

    def get(self, path: str) -> int:
        request = urllib.request.Request(
            self.base + path, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code


def start_demo(data_dir: Path, *args: str, log_name: str = "demo.log") -> Demo:
    http_port, mqtt_port = free_ports(2)
    argv = ["demo", "--no-traffic", "--http-port", str(http_port), "--mqtt-port", str(mqtt_port)]
    argv += ["--data-dir", str(data_dir), *args]
    log = data_dir.parent / log_name
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "spacehub.cli", *argv],
            cwd=ROOT,
            env={**os.environ, "SPACEHUB_ADMIN_TOKEN": TOKEN},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            process_group=0,  # a group of its own, like a job in a terminal
        )
    demo = Demo(proc, log, http_port, mqtt_port, data_dir)
    demo.wait_for(lambda text: END_OF_BANNER in text, "the banner")
    return demo


@pytest.fixture
def demos(tmp_path: Path) -> Iterator[list[Demo]]:
    """Demos a test starts; any still running at its end is killed."""
    started: list[Demo] = []
    yield started
    for demo in started:
        if demo.proc.poll() is None:
            demo.proc.kill()
            demo.proc.wait()


def open_stream(port: int) -> socket.socket:
    """A dashboard's event stream, read as far as its first event (it stays open)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    request = f"GET /api/stream HTTP/1.1\r\nHost: demo\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    sock.sendall(request.encode())
    received = b""
    while b"retry:" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"the stream closed at once: {received!r}"
        received += chunk
    assert received.startswith(b"HTTP/1.1 200")
    return sock


@pytest.mark.alone
def test_sigusr1_shows_the_banner_again_and_ctrl_c_stops_it_in_3_s(
    tmp_path: Path, demos: list[Demo]
) -> None:
    demo = start_demo(tmp_path / "demo", "--broker", "embedded")
    demos.append(demo)
    link = f"{demo.base}/login?token={TOKEN}"
    banner_text = demo.output
    assert banner_text.count(link) == 1
    assert f"kill -USR1 {demo.proc.pid}" in banner_text
    assert "Traceback" not in banner_text
    # Each bookable room's door panel opens from the link printed.
    panels = [ln.split()[-1] for ln in banner_text.splitlines() if f"{demo.base}/panel/" in ln]
    assert [p.split("?")[0] for p in panels] == [
        f"{demo.base}/panel/sala-a",
        f"{demo.base}/panel/sala-b",
    ]
    assert demo.get(panels[0].removeprefix(demo.base)) == 200

    # The `try:` command works as printed, from where the demo was started.
    (tap,) = [ln.split("try:", 1)[1] for ln in banner_text.splitlines() if "try:" in ln]
    assert f"--mqtt-url mqtt://127.0.0.1:{demo.mqtt_port}" in tap
    tapped = subprocess.run(
        shlex.split(tap), cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
    )
    assert tapped.stdout.startswith("granted: staff (Ewa N.), by server"), tapped

    demo.proc.send_signal(signal.SIGUSR1)
    demo.wait_for(lambda text: text.count(link) == 2, "the sign-in link again", timeout=5)
    assert demo.output.count(f"token:     {TOKEN}") == 2

    stream = open_stream(demo.http_port)
    try:
        code, took = demo.stop()
    finally:
        stream.close()
    output = demo.output
    assert code == 0, output
    assert took < 3.0, f"stopped in {took:.1f} s:\n{output}"
    last = output.strip().splitlines()[-1]
    assert last.startswith(STOPPED) and "devices offline" in last, output
    assert "Traceback" not in output and "ERROR" not in output, output


def retained_statuses(url: str, devices: tuple[str, ...]) -> dict[str, Status]:
    """The retained status of every one of `devices` on the broker at `url`."""
    found: dict[str, Status] = {}
    client = MqttClient(url, client_id="test-demo-statuses")

    def keep(msg) -> None:  # type: ignore[no-untyped-def]
        found[topics.parse(msg.topic).device] = decode(Status, msg.payload)

    client.subscribe(topics.all_device_status(SITE), keep)
    client.start()
    try:
        assert client.wait_connected(10)
        deadline = time.monotonic() + 10
        while set(found) != set(devices) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.stop()
    return found


@pytest.mark.alone
@pytest.mark.mosquitto
def test_ctrl_c_in_a_terminal_leaves_every_device_saying_offline_itself(
    tmp_path: Path, demos: list[Demo]
) -> None:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    demo = start_demo(tmp_path / "demo", "--broker", "mosquitto")
    demos.append(demo)
    stream = open_stream(demo.http_port)
    asked = datetime.now(UTC)
    try:
        code, took = demo.stop(group=True)  # Mosquitto too gets the Ctrl-C, if it listens
    finally:
        stream.close()
    assert code == 0, demo.output
    assert took < 3.0, f"stopped in {took:.1f} s:\n{demo.output}"
    assert demo.output.strip().splitlines()[-1].startswith(STOPPED)

    broker_dir = demo.data_dir / "broker"
    assert "Saving in-memory database" not in (broker_dir / "mosquitto.log").read_text()
    # The same broker files again, on another port: what the demo's broker kept.
    with MosquittoBroker(free_port(), broker_dir) as broker:
        broker.start()
        statuses = retained_statuses(broker.url, DEVICES)
    assert sorted(statuses) == sorted(DEVICES)
    for device, status in statuses.items():
        # A goodbye, not the last will (dated at the start): sent at the stop, its outbox
        # empty.
        assert status.state == "offline", device
        assert status.ts >= asked - timedelta(seconds=1), (device, status)
        assert status.queued == 0, (device, status)


def test_reset_starts_over_from_a_new_database(tmp_path: Path, demos: list[Demo]) -> None:
    data_dir = tmp_path / "demo"
    first = start_demo(data_dir, "--broker", "embedded", log_name="first.log")
    demos.append(first)
    assert "the database of an earlier run" not in first.output
    request = urllib.request.Request(
        first.base + "/api/members",
        data=json.dumps({"name": "Ktoś Nowy", "category": "resident"}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        member = json.load(response)["id"]
    assert first.stop()[0] == 0

    again = start_demo(data_dir, "--broker", "embedded", log_name="again.log")
    demos.append(again)
    assert "the database of an earlier run: --reset (make demo-reset)" in again.output
    assert again.get(f"/api/members/{member}") == 200
    assert again.stop()[0] == 0

    fresh = start_demo(data_dir, "--broker", "embedded", "--reset", log_name="fresh.log")
    demos.append(fresh)
    assert f"spacehub demo: starting over in {data_dir}" in fresh.output
    assert "the database of an earlier run" not in fresh.output
    assert fresh.get(f"/api/members/{member}") == 404
    assert fresh.get("/api/members/1") == 200  # seeded again
    assert fresh.stop()[0] == 0


def test_reset_removes_what_a_run_left_and_nothing_else(tmp_path: Path) -> None:
    for name in RUN_STATE:
        if "." in name:
            (tmp_path / name).write_text("x")
        else:
            (tmp_path / name / "inner").mkdir(parents=True)
    (tmp_path / "provision" / "ca.key").write_text("the --secure accounts stay")
    (tmp_path / "notes.txt").write_text("mine")

    assert reset(tmp_path) is True
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == ["notes.txt", "provision", "provision/ca.key"]
    assert reset(tmp_path) is False


def test_the_banners_hints_name_the_program_and_the_broker_in_use(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SPACEHUB_MQTT_URL", raising=False)
    run = Running(
        http_port=8080,
        broker_name="embedded",
        broker_url="mqtt://127.0.0.1:1883",
        token="tok",
        data_dir=tmp_path,
        earlier_data=False,
    )
    assert tap_hint(run) == f"{program()} tap --site piaseczno --device reader-main 04A1B2C3"
    moved = replace(run, broker_url="mqtt://127.0.0.1:1884")
    assert "tap --mqtt-url mqtt://127.0.0.1:1884 --site" in tap_hint(moved)
    secure = replace(run, secure_folder=tmp_path / "provision")
    assert f"tap --config {tmp_path}/provision/installer.toml --device reader-main 04A1B2C3" in (
        tap_hint(secure)
    )
    text = banner(run)
    assert "http://127.0.0.1:8080/login?token=tok" in text
    staffed = banner(replace(run, staff=("recepcja@piaseczno.example", "pass-word-1")))
    assert "staff:     recepcja@piaseczno.example / pass-word-1" in staffed
    assert "embedded: for showing the system only" in text

    monkeypatch.chdir(ROOT)
    assert program() in ("spacehub", ".venv/bin/spacehub") or Path(program()).is_absolute()


@pytest.mark.mosquitto
def test_the_demo_brokers_log_is_moved_aside_at_a_start_once_past_a_megabyte(
    tmp_path: Path,
) -> None:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    old = "2026-01-01T00:00:00: an earlier run\n" * 30_000  # over 1 MB
    (tmp_path / "mosquitto.log").write_text(old)
    with MosquittoBroker(free_port(), tmp_path) as broker:
        broker.start()
    assert (tmp_path / "mosquitto.log.1").read_text() == old
    assert len((tmp_path / "mosquitto.log").read_bytes()) < 10_000
