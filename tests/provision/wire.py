"""Helpers of tests/test_provision.py: connecting with one of provision's accounts, and
collecting what a subscriber receives until a marker message."""

from __future__ import annotations

import gc
import queue
import ssl
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx
import paho.mqtt.client as paho

from protocol.messages import new_id
from protocol.mqtt import MqttClient, parse_url
from spacehub.broker import MosquittoBroker
from spacehub.provision import Result

WAIT = 5.0

Received = queue.Queue[paho.MQTTMessage]


class Account(NamedTuple):
    """Credentials as a provisioned TOML file's `[mqtt]` table holds them."""

    url: str
    username: str | None
    password: str | None
    ca_file: str | None


@contextmanager
def serving(
    result: Result, port: int, data_dir: Path, config: Path | None = None
) -> Iterator[Result]:
    """Mosquitto running on a provisioned folder's mosquitto.conf (or `config`, e.g. its
    central broker's); stopped afterwards."""
    config = config or result.mosquitto_conf
    broker = MosquittoBroker(port, data_dir, config_file=config, tls=True)
    broker.start()
    try:
        yield result
    finally:
        broker.stop()


def client(
    make: Callable[..., MqttClient], account: Account, client_id: str | None = None
) -> MqttClient:
    """An MqttClient (from the `mqtt_client` fixture) with the account's credentials; its
    client id is the username, as the devices do, unless given."""
    return make(
        account.url,
        client_id or account.username or f"test-{new_id()[:8]}",
        username=account.username,
        password=account.password,
        ca_file=account.ca_file,
    )


def listening(mqtt: MqttClient, *filters: str) -> Received:
    """Subscribe `mqtt` to `filters`, connect, and return the queue messages land in."""
    received: Received = queue.Queue()
    for filter_ in filters:
        mqtt.subscribe(filter_, received.put)
    connected(mqtt)
    return received


def connected(mqtt: MqttClient) -> MqttClient:
    mqtt.start()
    assert mqtt.wait_connected(WAIT), f"{mqtt.client_id} did not connect"
    return mqtt


def received_until(received: Received, marker: str) -> list[str]:
    """The topics received up to and including the first message on `marker`. A publisher's
    messages reach a subscriber in the order sent, so whatever the broker let through
    before the marker is in this list."""
    topics = []
    while not topics or topics[-1] != marker:
        topics.append(received.get(timeout=WAIT).topic)
    return topics


def connack(account: Account) -> str:
    """Connect once with raw paho over TLS; the broker's CONNACK reason. TLS errors (an
    unknown CA, a wrong name) are raised."""
    address = parse_url(account.url)
    answers: queue.Queue[str] = queue.Queue()
    raw = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=account.username or f"test-anon-{new_id()[:8]}",
        protocol=paho.MQTTv311,
    )
    if account.username is not None:
        raw.username_pw_set(account.username, account.password)
    raw.tls_set(ca_certs=account.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    raw.on_connect = lambda client, userdata, flags, reason, props: answers.put(str(reason))
    try:
        raw.connect(address.host, address.port)
        raw.loop_start()
        return answers.get(timeout=WAIT)
    finally:
        raw.disconnect()
        raw.loop_stop()
        raw._reset_sockets()  # paho closes its socket pair only in __del__


def tls_refusal(account: Account) -> str:
    """Why a TLS connection with `account` fails: the message of the certificate
    verification error (AssertionError when it connects)."""
    with warnings.catch_warnings():
        # paho leaves the socket of a failed TLS handshake to the garbage collector
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            connack(account)
        except ssl.SSLCertVerificationError as exc:
            why = str(exc)
        else:
            raise AssertionError("connected without verifying the broker's certificate")
        gc.collect()
    return why


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    """Wait until `url` (a /healthz) answers 200, failing at once if `proc` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the demo exited ({proc.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not healthy within {timeout:g} s:\n{log.read_text()[-3000:]}")
