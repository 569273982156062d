"""What the local brokers need of the machine: a free port on 127.0.0.1, a listener to
wait for, and one clear error when a broker cannot start."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path

HOST = "127.0.0.1"
EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")  # Linux's; elsewhere, any port


class BrokerStartError(RuntimeError):
    """A broker could not be started: port taken, binary missing, or it did not come up."""


def free_port(host: str = HOST) -> int:
    """A TCP port on `host` that nothing listens on right now (for tests and benchmarks)."""
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = HOST) -> list[int]:
    """`count` different TCP ports on `host` that nothing listens on right now.

    They are drawn from below the system's ephemeral range, which it hands out to outgoing
    connections: a port from that range could be taken by a connection before whoever it
    is for binds it. All are held open until every one is picked: two calls to `free_port`
    in a row may otherwise be handed the same port.
    """
    quiet = _below_ephemeral()
    sockets: list[socket.socket] = []
    try:
        for attempt in range(count + 1000):
            if len(sockets) == count:
                break
            sock = socket.socket()
            try:  # after many ports taken, any the system gives
                sock.bind((host, random.choice(quiet) if quiet and attempt < 1000 else 0))
            except OSError:
                sock.close()
                continue
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _below_ephemeral() -> range:
    """Ports below the system's ephemeral range (none where that cannot be read)."""
    try:
        low = int(EPHEMERAL.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return range(0)
    return range(max(1024, low - 12_000), low)


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    """Whether a TCP connection to host:port succeeds within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def check_port_free(host: str, port: int) -> None:
    # Both brokers bind with SO_REUSEADDR, so a port in TIME_WAIT is fine; one that another
    # socket listens on is not. Checking first gives one clear message instead of a
    # traceback from amqtt, or a Mosquitto that dies after we already reached the other
    # program's listener.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise BrokerStartError(
                f"cannot listen on {host}:{port} for MQTT: {exc.strerror} "
                "(another broker running? choose another port)"
            ) from None
