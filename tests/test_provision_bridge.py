"""`spacehub provision --bridge-to`: a site's Mosquitto bridged to a central one, both
started from provision's files. A tap on the site's broker is decided by the server on the
central broker and the decision comes back to the door; with the bridge down the site's
gateway answers, and the server records its decision once the bridge is back; the bridge's
account reaches the site's own topics only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from faults.procs import Api, GatewayProc, ServerProc, wait_until
from provision.bridged import (
    MakeClient,
    account,
    add_observer,
    applied,
    bridge_account,
    decision_for,
    door,
    reaches_its_own_site_only,
    retained_on_site,
    tap,
)
from provision.wire import WAIT, Received, client, listening, serving

from protocol import topics
from protocol.mqtt import MqttClient
from spacehub.broker import MosquittoBroker, free_port, mosquitto_path
from spacehub.provision import Options, provision
from spacehub.provision import Result as Provisioned

pytestmark = pytest.mark.mosquitto

ROOT = Path(__file__).resolve().parent.parent
SITE_CONFIG = ROOT / "firmware_configs" / "sites" / "piaseczno.toml"
SITE = "piaseczno"
STAFF = "04A1B2C3"
DOOR = "reader-main"


class Network(NamedTuple):
    result: Provisioned
    central: MosquittoBroker
    server: ServerProc
    tmp: Path


def bridged(tmp: Path, site_port: int, central_port: int) -> Provisioned:
    """Provision's files for a site bridged to a central broker, both on this machine."""
    return provision(
        Options(
            site_config=SITE_CONFIG,
            out=tmp / "provision",
            hosts=("127.0.0.1",),
            port=site_port,
            bind="127.0.0.1",
            bridge_to=("127.0.0.1", central_port),
        )
    )


def needs_mosquitto() -> None:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    """The central broker with a server on it (its database is the test's own), and the
    site's broker bridged to it."""
    needs_mosquitto()
    site_port, central_port = free_port(), free_port()
    result = bridged(tmp_path, site_port, central_port)
    central = MosquittoBroker(
        central_port, tmp_path / "central", config_file=result.central_conf, tls=True
    )
    with ExitStack() as stack:
        central.start()
        stack.callback(central.stop)
        stack.enter_context(serving(result, site_port, tmp_path / "site"))
        server = ServerProc(tmp_path, central.url, SITE_CONFIG)
        server.args += ["--config", str(result.file_of("server"))]
        stack.callback(server.kill)
        server.start()
        server.wait_healthy()
        api = Api(server.url)
        try:
            api.member("Ewa Nowak", "staff", STAFF)
        finally:
            api.close()
        yield Network(result, central, server, tmp_path)


def test_the_files_bridge_the_sites_topics_only(tmp_path: Path) -> None:
    result = bridged(tmp_path, free_port(), free_port())
    conf = result.mosquitto_conf.read_text().splitlines()
    bridge = bridge_account(result)
    assert f"address 127.0.0.1:{bridge.url.rsplit(':', 1)[1]}" in conf
    assert f"bridge_cafile {result.central}/ca.crt" in conf and "bridge_insecure false" in conf
    assert f"remote_username {SITE}.bridge" in conf
    assert all(line.split()[1].startswith(f"hub/{SITE}/") for line in conf if "topic " in line)
    assert "topic hub/piaseczno/dev/+/evt/tap out 1" in conf
    assert "topic hub/piaseczno/dev/+/cmd/decision both 1" in conf
    central_acl = (result.central_conf.parent / "acl").read_text()
    assert f"user {SITE}.bridge\ntopic readwrite hub/{SITE}/#\n" in central_acl
    # the doors and the gateway are the site broker's; the servers the central one's
    site_users = (result.out / "passwd").read_text()
    assert f"{SITE}.reader-main:" in site_users and f"{SITE}.server.main:" not in site_users
    assert f"{SITE}.server.main:" in (result.central_conf.parent / "passwd").read_text()


def test_a_tap_on_the_site_is_decided_centrally(network: Network, mqtt_client: MakeClient) -> None:
    result = network.result
    gateway = client(mqtt_client, account(result.file_of("gateway")))
    statuses = listening(gateway, topics.all_server_status(SITE))
    # the servers' statuses come in over the bridge: it is up
    assert statuses.get(timeout=WAIT * 2).topic == topics.server_status(SITE, "main")

    reader, decisions = the_door(network, mqtt_client)
    event = tap(reader, SITE, DOOR, STAFF)

    decision = decision_for(event, decisions, SITE, DOOR)
    assert (decision.granted, decision.reason, decision.by) == (True, "staff", "server")
    # the door's mode and emergency list came over the bridge and are retained on the site
    gateway.stop()  # its account looks again, as a gateway starting now would
    for topic in (topics.mode(SITE, "reader-main"), topics.emergency(SITE, "reader-main")):
        on_site = partial(retained_on_site, mqtt_client, result.file_of("gateway"), topic)
        wait_until(on_site, 15, f"{topic} retained on the site's broker")


def test_with_the_bridge_down_the_gateway_answers_and_the_server_records_it_after(
    network: Network, mqtt_client: MakeClient
) -> None:
    result, central = network.result, network.central
    gateway = GatewayProc(network.tmp, result.url, network.server.url)
    gateway.args += ["--config", str(result.file_of("gateway"))]
    api = Api(network.server.url)
    try:
        gateway.start()
        wait_until(gateway.snapshot, 15, "the gateway's first snapshot", every=0.1)
        reader, decisions = the_door(network, mqtt_client)
        central.stop()  # the bridge is down, and the server has no broker

        event = tap(reader, SITE, DOOR, STAFF)
        decision = decision_for(event, decisions, SITE, DOOR)
        assert (decision.granted, decision.reason, decision.by) == (True, "staff", "gateway")
        applied(reader, SITE, DOOR, decision)

        central.start()

        # the tap may come first (too old to answer: expired), then the gateway's decision
        def by_gateway() -> list[dict[str, Any]] | None:
            rows = api.access_by_id().get(event.id, [])
            return rows if any(row["by"] == "gateway" for row in rows) else None

        log = wait_until(by_gateway, 20, "the gateway's decision in the access log")
        assert [(row["by"], row["granted"], row["reason"]) for row in log] == [
            ("gateway", True, "staff")
        ]
    finally:
        api.close()
        gateway.kill()
        if central.pid is None:
            central.start()


def the_door(network: Network, mqtt_client: MakeClient) -> tuple[MqttClient, Received]:
    return door(mqtt_client, network.result, network.server.database, SITE, DOOR)


def test_the_bridge_account_reaches_its_own_site_only(
    tmp_path: Path, mqtt_client: MakeClient
) -> None:
    needs_mosquitto()
    central_port = free_port()
    result = bridged(tmp_path, free_port(), central_port)
    add_observer(result.central_conf.parent)
    with serving(result, central_port, tmp_path / "central", result.central_conf):
        bridge = bridge_account(result)
        reaches_its_own_site_only(mqtt_client, bridge, (SITE, DOOR), ("other", DOOR))
