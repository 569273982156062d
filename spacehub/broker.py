"""The MQTT brokers `spacehub demo`, `spacehub broker` and the tests run on this machine.

Mosquitto, run as a child process, wherever it is installed: it keeps persistent sessions
and their queued messages, also across its own restart. Otherwise an embedded pure-Python
broker (amqtt), so that a demo needs no root and no system package.

>>> broker = start_broker("auto", port=1883, data_dir="var/demo")  # doctest: +SKIP
>>> broker.name, broker.url  # doctest: +SKIP
('mosquitto', 'mqtt://127.0.0.1:1883')
>>> broker.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Literal

from spacehub.embedded_broker import EmbeddedBroker
from spacehub.ports import HOST, BrokerStartError, check_port_free, free_port, wait_for_port

__all__ = [
    "HOST",
    "BrokerKind",
    "BrokerStartError",
    "EmbeddedBroker",
    "MosquittoBroker",
    "free_port",
    "mosquitto_path",
    "persistence_settings",
    "run_as_owner",
    "run_embedded",
    "session_settings",
    "start_broker",
    "wait_for_port",
]

log = logging.getLogger(__name__)

BrokerKind = Literal["auto", "mosquitto", "embedded"]


def mosquitto_path() -> str | None:
    """The mosquitto binary: on PATH, or where Debian puts it (/usr/sbin is often not on PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


# A consumer (the server, the gateway) that is offline for a day must find every event of
# the day queued when it comes back. The demo site has 9 devices (4 doors, 5 sensors). A
# busy door: ~2,000 taps a day, each with a tap, a result and two door events = 8,000; a
# busy sensor: a motion or count message a minute over 24 h ≈ 1,500; every device: a status
# a minute = 1,440. 4 × 9,440 + 5 × 2,940 ≈ 52,000 messages a day per consumer session.
# A million covers 24 h about 19 times over (some 300 MB if it ever filled, at the usual
# ~300-byte payload), so the byte limit is off rather than a second, tighter constraint.
MAX_QUEUED_MESSAGES = 1_000_000
# In flight = sent to one client and not yet acknowledged; matches MqttClient's own window,
# so a consumer that acknowledges after its DB commit is not throttled to Mosquitto's 20.
MAX_INFLIGHT_MESSAGES = 100


def session_settings() -> list[str]:
    """mosquitto.conf lines for queues and sessions: every spacehub Mosquitto's, the demo's
    and tests' as well as the one `spacehub provision` writes for a site."""
    return [
        "set_tcp_nodelay true",
        f"max_queued_messages {MAX_QUEUED_MESSAGES}",
        "max_queued_bytes 0",
        f"max_inflight_messages {MAX_INFLIGHT_MESSAGES}",
        "persistent_client_expiration 7d",
    ]


def persistence_settings(location: Path) -> list[str]:
    """mosquitto.conf lines keeping sessions and queues in `location`, saved every second."""
    return ["persistence true", f"persistence_location {location}/", "autosave_interval 1"]


def run_as_owner() -> str:
    """The `user` line that keeps a Mosquitto started as root on the files we made."""
    import pwd  # POSIX only, like Mosquitto's `user` option

    return f"user {pwd.getpwuid(os.geteuid()).pw_name}"


# The local broker's log: errors, warnings and notices (connections, disconnections), but
# not the "Saving in-memory database" information line that autosave_interval 1 writes
# every second something changed (some 140 KB an hour).
LOG_SETTINGS = (
    "log_dest stderr",
    "log_type error",
    "log_type warning",
    "log_type notice",
    "log_timestamp_format %Y-%m-%dT%H:%M:%S",
)
LOG_KEEP = 1_000_000  # bytes of mosquitto.log kept at a start; the rest is mosquitto.log.1


class MosquittoBroker:
    """Mosquitto as a child process with a generated configuration in `data_dir`.

    It listens on 127.0.0.1 only, accepts anonymous clients, sets TCP_NODELAY, and keeps
    persistent sessions and their queued messages in `data_dir` (saved every second and on
    a clean stop). Its log is `data_dir/mosquitto.log` (moved to `mosquitto.log.1` at a
    start once it has grown past a megabyte). It runs in a process group of its own, so a
    Ctrl-C in the terminal reaches only its parent, which stops it once the clients that
    need it have said goodbye. The deployed configuration, with
    TLS, passwords and ACLs, is what `spacehub provision` writes; given as `config_file`
    (with `tls=True`), Mosquitto runs on that file instead, which must listen on `port`.

    >>> broker = MosquittoBroker(1883, "var/demo")  # doctest: +SKIP
    >>> broker.start()  # doctest: +SKIP
    >>> broker.restart()  # persistent sessions and their queues survive  # doctest: +SKIP
    >>> broker.stop()  # doctest: +SKIP
    """

    name = "mosquitto"

    def __init__(
        self,
        port: int,
        data_dir: str | os.PathLike[str],
        *,
        persistence: bool = True,
        binary: str | None = None,
        config_file: str | os.PathLike[str] | None = None,
        tls: bool = False,
    ) -> None:
        self.host = HOST
        self.port = port
        self.data_dir = Path(data_dir).resolve()
        self.persistence = persistence
        self.binary = binary or mosquitto_path()
        self.generated = config_file is None  # else Mosquitto runs on that file as it is
        self.config_path = Path(config_file or self.data_dir / "mosquitto.conf").resolve()
        self.tls = tls
        self.log_path = self.data_dir / "mosquitto.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def config(self) -> str:
        """The text of mosquitto.conf."""
        lines = [
            "# Written by spacehub for a local broker; regenerated at every start.",
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            *session_settings(),
            *LOG_SETTINGS,
        ]
        if os.geteuid() == 0:
            # Started as root, Mosquitto switches to the `mosquitto` user, which cannot
            # write our data_dir (and the persistence file would silently not be saved).
            lines.append(run_as_owner())
        if self.persistence:
            lines += persistence_settings(self.data_dir)
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 10.0) -> None:
        """Write the configuration, run Mosquitto, and return once it accepts connections."""
        if self.binary is None:
            raise BrokerStartError("mosquitto is not installed (apt install mosquitto)")
        if self._proc is not None:
            raise BrokerStartError(f"mosquitto already running (pid {self._proc.pid})")
        check_port_free(self.host, self.port)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.generated:
            self.config_path.write_text(self.config())
        self._rotate_log()
        with open(self.log_path, "ab") as log_file:  # the child keeps its own descriptor
            self._proc = subprocess.Popen(
                [self.binary, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                process_group=0,  # not the terminal's Ctrl-C: `stop` ends it, in its turn
            )
        deadline = time.monotonic() + timeout
        while self._proc.poll() is None and time.monotonic() < deadline:
            if wait_for_port(self.host, self.port, 0.05):
                return
        code = self._proc.poll()
        if code is None:
            self.kill()
        self._proc = None
        what = f"exited with status {code}" if code is not None else f"not up in {timeout:g} s"
        raise BrokerStartError(f"mosquitto {what}; the end of {self.log_path}:\n{self.log_tail()}")

    def _rotate_log(self) -> None:
        try:
            if self.log_path.stat().st_size > LOG_KEEP:
                self.log_path.replace(self.log_path.with_name(self.log_path.name + ".1"))
        except FileNotFoundError:
            pass

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (Mosquitto saves its persistence file) and wait; SIGKILL if it hangs."""
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("mosquitto (pid %s) ignored SIGTERM; killing it", self._proc.pid)
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash or power cut would: only the last autosave survives."""
        if self._proc is None:
            return
        self._proc.kill()
        self._proc.wait()
        self._proc = None

    def restart(self, timeout: float = 10.0) -> None:
        self.stop(timeout)
        self.start(timeout)

    def __enter__(self) -> MosquittoBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_broker(
    kind: BrokerKind, *, port: int, data_dir: str | os.PathLike[str]
) -> EmbeddedBroker | MosquittoBroker:
    """Start and return a broker on 127.0.0.1:`port`; "auto" is Mosquitto when installed.

    `data_dir` holds Mosquitto's configuration, log and persistence (the embedded broker
    keeps nothing). The broker's `.name` says which one runs.
    """
    if kind not in ("auto", "mosquitto", "embedded"):
        raise ValueError(f"broker must be auto, mosquitto or embedded, not {kind!r}")
    if kind == "mosquitto" and mosquitto_path() is None:
        raise BrokerStartError(
            "--broker mosquitto: mosquitto is not installed "
            "(apt install mosquitto, or use --broker embedded)"
        )
    broker: EmbeddedBroker | MosquittoBroker
    if kind == "embedded" or (kind == "auto" and mosquitto_path() is None):
        broker = EmbeddedBroker(port=port)
    else:
        broker = MosquittoBroker(port, data_dir)
    broker.start()
    return broker


def run_embedded(port: int = 1883) -> None:
    """Run the embedded broker until Ctrl-C or SIGTERM (`spacehub broker`)."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    broker = EmbeddedBroker(port=port)
    broker.start()
    print(f"embedded MQTT broker listening on {broker.url} (Ctrl-C stops it)", flush=True)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        broker.stop()
