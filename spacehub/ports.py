"""What the local brokers need of the machine: a free port on 127.0.0.1, a listener to
wait for, and one clear error when a broker cannot start."""

from __future__ import annotations

import socket
import time

HOST = "127.0.0.1"


class BrokerStartError(RuntimeError):
    """A broker could not be started: port taken, binary missing, or it did not come up."""


def free_port(host: str = HOST) -> int:
    """A TCP port on `host` that nothing listens on right now (for tests and benchmarks)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


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
