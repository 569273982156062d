"""Helpers of the bridged-site tests (tests/test_provision_bridge.py, one site, and
tests/test_network_of_sites.py, two): provision's accounts, a door on a site's broker, a
tap and its decision, what a bridge's account may reach, and a network link between a
site and the centre that a test can cut."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from faults.procs import wait_synced
from provision.wire import WAIT, Account, Received, client, listening, received_until

from protocol import topics
from protocol.messages import Decision, Result, Status, Tap, decode, encode, new_id
from protocol.mqtt import MqttClient
from spacehub.broker import free_port
from spacehub.provision import Result as Provisioned
from spacehub.provision.acl import BRIDGE_FILE
from spacehub.provision.passwd import passwd_line

MakeClient = Callable[..., MqttClient]

# Not provision's: a test's account on the central broker that may read and write every
# topic, to show what a bridge's account cannot reach.
OBSERVER = Account("", "test.observer", "observer-password", None)


def account(file: Path) -> Account:
    """The credentials of one of provision's TOML files, its CA's path resolved."""
    table = tomllib.loads(file.read_text())["mqtt"]
    ca = (file.parent / table["ca_file"]).resolve()
    return Account(table["url"], table["username"], table["password"], str(ca))


def bridge_account(result: Provisioned) -> Account:
    """The site broker's account on the central broker."""
    return account(result.out / BRIDGE_FILE)


def door(
    make: MakeClient, result: Provisioned, database: str, site: str, device: str
) -> tuple[MqttClient, Received]:
    """The door controller `device` on its site's broker (its own account), online with a
    synced clock as the central server knows (it judges a tap's age only then), hearing
    its commands."""
    mqtt = client(make, account(result.file_of("door", device)))
    commands = listening(mqtt, topics.device_commands(site, device))
    status = Status(state="online", kind="door", ts=datetime.now(UTC), clock_synced=True)
    mqtt.publish(topics.status(site, device), encode(status), retain=True)
    wait_synced(database, [device])
    return mqtt, commands


def tap(mqtt: MqttClient, site: str, device: str, card: str) -> Tap:
    """A tap of `card` at `device`, published as the door publishes it."""
    event = Tap(id=new_id(), ts=datetime.now(UTC), card=card)
    mqtt.publish(topics.tap(site, device), encode(event)).wait_for_publish(WAIT)
    return event


def decision_for(event: Tap, commands: Received, site: str, device: str) -> Decision:
    """The first decision heard for the tap `event` at `device`."""
    while True:
        message = commands.get(timeout=WAIT * 2)
        if message.topic == topics.decision(site, device):
            decision = decode(Decision, bytes(message.payload))
            if decision.id == event.id:
                return decision


def applied(reader: MqttClient, site: str, device: str, decision: Decision) -> None:
    """The door's Result: it applied `decision`."""
    done = Result(
        id=new_id(),
        tap=decision.id,
        applied=decision.by,
        granted=decision.granted,
        ts=datetime.now(UTC),
    )
    reader.publish(topics.result(site, device), encode(done)).wait_for_publish(WAIT)


def retained_on_site(make: MakeClient, file: Path, topic: str) -> bool:
    """Whether a site's broker holds a message retained on `topic`: the account of `file`
    (one of provision's, not in use meanwhile) subscribes anew and hears it within a
    second, flagged retained."""
    probe = client(make, account(file))
    try:
        message = listening(probe, topic).get(timeout=1.0)
    except queue.Empty:
        return False
    finally:
        probe.stop()
    return bool(message.retain)


def add_observer(central: Path) -> None:
    """OBSERVER's lines in a central broker's acl and passwd (before it starts)."""
    with (central / "acl").open("a") as acl:
        acl.write(f"\nuser {OBSERVER.username}\ntopic readwrite #\n")
    with (central / "passwd").open("a") as passwd:
        passwd.write(passwd_line(str(OBSERVER.username), str(OBSERVER.password)) + "\n")


def reaches_its_own_site_only(
    make: MakeClient, bridge: Account, own: tuple[str, str], other: tuple[str, str]
) -> None:
    """Logged in as a site's bridge on the central broker (its bridge not running, which
    would take its client id back) next to OBSERVER: what it publishes on the `other`
    (site, door)'s topics is dropped and it never reads them, while its `own` pass."""
    observer = client(make, OBSERVER._replace(url=bridge.url, ca_file=bridge.ca_file))
    link = client(make, bridge)
    try:
        seen = listening(observer, f"hub/{other[0]}/#", topics.tap(*own))
        heard = listening(link, f"hub/{other[0]}/#", topics.device_commands(*own))
        for topic in (topics.tap(*other), topics.tap(*own)):
            link.publish(topic, b'{"v":1}').wait_for_publish(WAIT)
        assert received_until(seen, topics.tap(*own)) == [topics.tap(*own)]
        for topic in (topics.decision(*other), topics.decision(*own)):
            observer.publish(topic, b'{"v":1}').wait_for_publish(WAIT)
        assert received_until(heard, topics.decision(*own)) == [topics.decision(*own)]
    finally:  # both usernames are client ids: the next check logs in as them again
        observer.stop()
        link.stop()


class Link:
    """The network between a site and the centre: TCP connections to 127.0.0.1:`port`
    forwarded to `target`. `cut()` closes every connection and refuses new ones, as a
    broken line does; `mend()` takes connections again.

    >>> link = Link(8883); link.mend()  # doctest: +SKIP
    """

    def __init__(self, target: int) -> None:
        self.port = free_port()
        self.target = target
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def mend(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            ends, self._open = self._open, []
            listener, self._listener = self._listener, None
        for end in [*ends, *([listener] if listener else [])]:
            _close(end)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                near, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                far = socket.create_connection(("127.0.0.1", self.target))
            except OSError:  # the centre is down: the caller's connection ends
                _close(near)
                continue
            with self._lock:
                live = self._listener is listener
                if live:
                    self._open += [near, far]
            if not live:  # cut meanwhile
                _close(near)
                _close(far)
                return
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes from `source` to `sink` until either ends, then end both."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    _close(source)
    _close(sink)


def _close(end: socket.socket) -> None:
    with contextlib.suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv() or accept()
    end.close()
