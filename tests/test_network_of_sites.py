"""Two sites bridged to one central broker (README, "A network of hubs"), every broker
started from `spacehub provision`'s files: PiasecznoHUB and KonstancinHUB each keep their
Mosquitto, doors and gateway; their central servers, one per site, share one database and
the central broker. A tap at either site is decided by its site's central server and the
decision comes back over that site's bridge; with one site's link to the centre cut, that
site's gateway answers its doors while the other site goes on through the centre, and
the gateway's decision is recorded once when the link is back. A site's bridge account
reaches its own site's topics only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import pytest
from cryptography import x509
from faults.procs import Api, GatewayProc, ServerProc, query, wait_until
from provision.bridged import (
    Link,
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
from provision.wire import WAIT, serving
from support.database import migrated_database

from protocol import topics
from protocol.messages import Decision, Tap
from spacehub.broker import MosquittoBroker, free_port, mosquitto_path
from spacehub.provision import Options, provision
from spacehub.provision import Result as Provisioned
from spacehub.provision.certs import load_cert

SITES = Path(__file__).resolve().parent.parent / "firmware_configs" / "sites"
STAFF = "04A1B2C3"  # a member of the network: one card, let in at both sites


class Door(NamedTuple):
    site: str
    device: str  # its controller, whose topics the test plays
    door: str  # its id in the access log


PIASECZNO = Door("piaseczno", "reader-main", "main")
KONSTANCIN = Door("konstancin", "reader-kon-main", "kon-main")


def provisioned(tmp: Path, site: str, site_port: int, central_port: int) -> Provisioned:
    """A site's files, bridged to the central broker whose folder (`tmp/central`) every
    site's run shares."""
    return provision(
        Options(
            site_config=SITES / f"{site}.toml",
            out=tmp / site,
            hosts=("127.0.0.1",),
            port=site_port,
            bind="127.0.0.1",
            bridge_to=("127.0.0.1", central_port),
            central=tmp / "central",
        )
    )


def needs_mosquitto() -> None:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")


def test_both_sites_accounts_share_the_central_broker(tmp_path: Path) -> None:
    """Provision only: each site's run adds its own users to the central folder."""
    central_port = free_port()
    first = provisioned(tmp_path, "piaseczno", free_port(), central_port)
    second = provisioned(tmp_path, "konstancin", free_port(), central_port)
    central = tmp_path / "central"
    assert first.central == second.central == central
    files = {name: (central / name).read_text() for name in ("passwd", "acl", "ca.crt")}
    users = [line.split(":", 1)[0] for line in files["passwd"].splitlines()]
    for site in ("piaseczno", "konstancin"):
        assert {f"{site}.server.main", f"{site}.bridge"} <= set(users)
        assert grants(files["acl"], f"{site}.bridge") == [f"topic readwrite hub/{site}/#"]
    assert users == sorted(users, key=lambda user: user.split(".")[0])  # by site
    # both bridges and both sites' servers trust the central broker's own CA
    for result in (first, second):
        assert f"bridge_cafile {central}/ca.crt" in result.mosquitto_conf.read_text()
        assert account(result.file_of("server")).ca_file == str(central / "ca.crt")
    # the first site's run again changes nothing: the second site's users stay
    provisioned(tmp_path, "piaseczno", free_port(), central_port)
    assert {name: (central / name).read_text() for name in files} == files
    # a site that names the central broker otherwise adds that name to its certificate
    elsewhere = ("hub.lan", central_port)
    provision(Options(SITES / "konstancin.toml", second.out, central=central, bridge_to=elsewhere))
    cert = load_cert((central / "broker.crt").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"hub.lan", "127.0.0.1"} <= {str(name.value) for name in san}


def grants(acl: str, user: str) -> list[str]:
    """The `topic` lines of `user`'s block in an acl_file (blocks end at a blank line)."""
    lines = acl.splitlines()
    start = lines.index(f"user {user}") + 1
    end = lines.index("", start) if "" in lines[start:] else len(lines)
    return lines[start:end]


@dataclass
class Site:
    door: Door
    result: Provisioned
    server: ServerProc
    gateway: GatewayProc


@pytest.fixture
def network(tmp_path: Path) -> Iterator[tuple[Site, Site, Link]]:
    """The central broker; both sites' brokers bridged to it (Konstancin's through a link
    the test can cut) and their gateways; a central server per site on one database."""
    needs_mosquitto()
    central_port = free_port()
    ports = {door.site: free_port() for door in (PIASECZNO, KONSTANCIN)}
    results = {
        site: provisioned(tmp_path, site, port, central_port) for site, port in ports.items()
    }
    # Konstancin's bridge dials the centre through a link the test cuts (provision wrote
    # the central broker's own address, as every site's bridge has it)
    link = Link(central_port)
    conf = results["konstancin"].mosquitto_conf
    address = f"address 127.0.0.1:{central_port}\n"
    assert address in conf.read_text()
    conf.write_text(conf.read_text().replace(address, f"address 127.0.0.1:{link.port}\n"))
    central = MosquittoBroker(
        central_port,
        tmp_path / "central-broker",
        config_file=results["piaseczno"].central_conf,
        tls=True,
    )
    database = migrated_database(tmp_path / "network.db")
    with ExitStack() as stack:
        central.start()
        stack.callback(central.stop)
        link.mend()
        stack.callback(link.cut)
        servers = {}
        for site, result in results.items():
            stack.enter_context(serving(result, ports[site], tmp_path / f"{site}-broker"))
            run = tmp_path / f"{site}-run"
            run.mkdir()
            server = ServerProc(run, central.url, SITES / f"{site}.toml", database=database)
            server.args += ["--config", str(result.file_of("server"))]
            stack.callback(server.kill)
            server.start()
            servers[site] = server
        for server in servers.values():
            server.wait_healthy(60)  # two servers starting at once on a busy machine
        api = Api(servers["piaseczno"].url)
        try:
            member = api.member("Ewa Nowak", "staff", STAFF)  # at one site, for the network
        finally:
            api.close()
        sites = []
        for door in (PIASECZNO, KONSTANCIN):
            result, server = results[door.site], servers[door.site]
            gateway = GatewayProc(server.log_path.parent, result.url, server.url, site=door.site)
            gateway.args += ["--config", str(result.file_of("gateway"))]
            stack.callback(gateway.kill)
            gateway.start()
            sites.append(Site(door, result, server, gateway))
        for site in sites:  # each site's server knows the member: its gateway's snapshot does
            knows = partial(knows_member, site.gateway, member)
            wait_until(knows, 15, f"the member in {site.door.site}'s gateway's snapshot", every=0.1)
        yield sites[0], sites[1], link


def knows_member(gateway: GatewayProc, member: int) -> bool:
    snapshot = gateway.snapshot()
    return snapshot is not None and member in snapshot.members


def logged(site: Site, event_id: str) -> list[tuple[str, str, str, bool, str]]:
    """The access log's rows of one tap (in the database both servers write)."""
    sql = "SELECT device_id, door_id, by, granted, reason FROM access_events WHERE event_id = ?"
    return [tuple(row) for row in query(site.server.database, sql, event_id)]  # type: ignore[misc]


def wait_logged(
    site: Site, event_id: str, row: tuple[str, str, str, bool, str], timeout: float
) -> None:
    """Wait until the tap `event_id` is in the access log as `row`, and only so."""
    wait_until(lambda: logged(site, event_id) == [row], timeout, f"{row} in the access log")


@pytest.mark.mosquitto
def test_both_sites_are_decided_centrally_and_a_cut_site_works_through_its_gateway(
    network: tuple[Site, Site, Link], mqtt_client: MakeClient
) -> None:
    piaseczno, konstancin, link = network
    doors = {
        site.door: door(mqtt_client, site.result, site.server.database, *site.door[:2])
        for site in (piaseczno, konstancin)
    }

    def tapped(where: Door) -> tuple[Tap, Decision]:
        reader, decisions = doors[where]
        event = tap(reader, where.site, where.device, STAFF)
        return event, decision_for(event, decisions, where.site, where.device)

    # each site's tap is decided by its own central server and logged once, its door's ids
    for site in (piaseczno, konstancin):
        event, decision = tapped(site.door)
        assert (decision.by, decision.granted, decision.reason) == ("server", True, "staff")
        wait_logged(site, event.id, (*site.door[1:], "server", True, "staff"), WAIT)

    link.cut()  # Konstancin's line to the centre is down; the central broker is up
    cut_off, decision = tapped(KONSTANCIN)
    assert (decision.by, decision.granted, decision.reason) == ("gateway", True, "staff")
    applied(doors[KONSTANCIN][0], *KONSTANCIN[:2], decision)
    event, decision = tapped(PIASECZNO)  # Piaseczno goes on through the centre meanwhile
    assert (decision.by, decision.granted, decision.reason) == ("server", True, "staff")
    wait_logged(piaseczno, event.id, (*PIASECZNO[1:], "server", True, "staff"), WAIT)
    assert logged(konstancin, cut_off.id) == []  # the centre has not heard of it

    link.mend()
    # the tap may come first (too old to answer: expired), then the gateway's decision
    wait_logged(konstancin, cut_off.id, (*KONSTANCIN[1:], "gateway", True, "staff"), 30)


@pytest.mark.mosquitto
def test_each_sites_doors_get_their_modes_from_the_centre(
    network: tuple[Site, Site, Link], mqtt_client: MakeClient
) -> None:
    """A site's central server publishes its doors' modes and emergency lists (retained,
    on its periodic pass); each site's broker holds its own over its bridge."""
    for site in network[:2]:
        where, reader = site.door, site.result.file_of("door", site.door.device)
        for topic in (topics.mode(*where[:2]), topics.emergency(*where[:2])):
            on_site = partial(retained_on_site, mqtt_client, reader, topic)
            wait_until(on_site, 15, f"{topic} retained on {where.site}'s broker")


@pytest.mark.mosquitto
def test_a_sites_bridge_account_reaches_its_own_site_only(
    tmp_path: Path, mqtt_client: MakeClient
) -> None:
    needs_mosquitto()
    central_port = free_port()
    first = provisioned(tmp_path, "piaseczno", free_port(), central_port)
    second = provisioned(tmp_path, "konstancin", free_port(), central_port)
    add_observer(tmp_path / "central")
    with serving(first, central_port, tmp_path / "central-broker", first.central_conf):
        for result, own, other in ((first, PIASECZNO, KONSTANCIN), (second, KONSTANCIN, PIASECZNO)):
            own_door, other_door = (own.site, own.device), (other.site, other.device)
            reaches_its_own_site_only(mqtt_client, bridge_account(result), own_door, other_door)
