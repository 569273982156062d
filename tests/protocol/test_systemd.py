"""What a program tells systemd: READY=1 once started, WATCHDOG=1 each half period while it
is healthy and never when it is not, STOPPING=1 at the end; nothing outside systemd."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.systemd import notify, supervise, watchdog_period


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    """A datagram socket where systemd would listen; its path in `sock.getsockname()`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(tmp_path / "notify"))
        sock.settimeout(2.0)
        yield sock


def received(sock: socket.socket) -> list[str]:
    """Every message waiting on `sock`."""
    sock.setblocking(False)
    messages = []
    try:
        while True:
            messages.append(sock.recv(256).decode())
    except BlockingIOError:
        return messages
    finally:
        sock.settimeout(2.0)


def test_a_message_reaches_the_socket_named_in_notify_socket(notify_socket) -> None:
    assert notify("READY=1", {"NOTIFY_SOCKET": notify_socket.getsockname()})
    assert notify_socket.recv(256) == b"READY=1"


def test_an_abstract_socket_is_reached_too() -> None:
    name = f"spacehub-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2.0)
        assert notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(256) == b"WATCHDOG=1"


@pytest.mark.parametrize("value", [None, "", "relative/path", "/nonexistent/socket"])
def test_outside_systemd_nothing_is_sent_and_nothing_fails(value) -> None:
    environ = {} if value is None else {"NOTIFY_SOCKET": value}
    assert notify("READY=1", environ) is False


@pytest.mark.parametrize(
    ("environ", "period"),
    [
        ({"WATCHDOG_USEC": "10000000"}, 5.0),
        ({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid())}, 5.0),
        ({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}, None),  # another process's
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_the_watchdog_period_is_half_of_systemds(environ, period) -> None:
    assert watchdog_period(environ) == period


def test_supervise_pings_while_healthy_only_and_says_ready_and_stopping(notify_socket) -> None:
    environ = {"NOTIFY_SOCKET": notify_socket.getsockname(), "WATCHDOG_USEC": "20000"}
    well = threading.Event()
    well.set()
    stop = threading.Event()
    thread = threading.Thread(
        target=supervise, args=(stop,), kwargs={"healthy": well.is_set, "environ": environ}
    )
    thread.start()
    try:
        assert notify_socket.recv(256) == b"READY=1"
        assert notify_socket.recv(256) == b"WATCHDOG=1"
        well.clear()
        stop.wait(0.05)  # the ping that may have been on its way
        received(notify_socket)
        stop.wait(0.1)  # ten periods of 10 ms
        assert received(notify_socket) == []
    finally:
        stop.set()
        thread.join(5)
    assert received(notify_socket) == ["STOPPING=1"]
