"""What a program tells systemd when it runs as a `Type=notify` unit with `WatchdogSec=`
(firmware_configs/systemd/): that it is ready, that it is still well, and that it stops.

systemd passes the socket in `NOTIFY_SOCKET` and the watchdog's period in
`WATCHDOG_USEC`; a program that stops sending `WATCHDOG=1` within that period is killed
and, with `Restart=on-failure`, started again. Outside systemd nothing is sent.

>>> stop = threading.Event()                                   # doctest: +SKIP
>>> supervise(stop, healthy=runner.healthy)  # until stop is set  # doctest: +SKIP
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Mapping

IDLE_WAIT = 1.0  # seconds between looks at `stop` when no watchdog is asked for


def notify(message: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Send `message` (`READY=1`, `WATCHDOG=1`, `STOPPING=1`, ...) to systemd; False when
    not run by systemd or the socket is gone."""
    address = environ.get("NOTIFY_SOCKET")
    if not address or address[0] not in "/@":
        return False
    if address[0] == "@":  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError:
        return False
    return True


def watchdog_period(environ: Mapping[str, str] = os.environ) -> float | None:
    """Seconds between `WATCHDOG=1` messages: half systemd's period, or None when no
    watchdog watches this process."""
    pid = environ.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


def supervise(
    stop: threading.Event,
    *,
    healthy: Callable[[], bool],
    environ: Mapping[str, str] = os.environ,
) -> None:
    """Say ready, then until `stop` is set say `WATCHDOG=1` each period while `healthy()`
    holds (a program whose threads died is then restarted by systemd); say stopping."""
    notify("READY=1", environ)
    period = watchdog_period(environ)
    while not stop.wait(period or IDLE_WAIT):
        if period and healthy():
            notify("WATCHDOG=1", environ)
    notify("STOPPING=1", environ)
