"""Who is who on a site's broker, and what each may publish and read (docs/protocol.md).

Every device has its own user `{site}.{device}`: it publishes only its own events (of its
kind) and status and reads only its own commands; devices/door.py subscribes to its
commands and nothing else, devices/sensor.py to nothing. The gateway reads the site and
publishes decisions to the doors and its own status. Each server replica reads and writes
the whole site: it is the source of truth and talks to itself there too; with the site's
Home Assistant discovery on, it also publishes the site's discovery configs, and Home
Assistant has a user that reads them and the states. Mosquitto refuses whatever no line
grants.

Mosquitto 2 delivers a message to a `$share/{group}/{filter}` subscription only when the
subscriber may read the message's own topic, so the server's read lines cover the shared
subscriptions its replicas split the stream with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from protocol import topics
from protocol.homeassistant import all_states, birth, config_filter, discovery_filter
from protocol.mqtt import connection_username
from server.site import SiteConfig

Role = Literal["door", "occupancy", "server", "gateway", "installer", "homeassistant", "bridge"]

# With a central broker (`--bridge-to`), these accounts are the central broker's; the
# others stay on the site's broker, whose bridge carries the site's topics between them.
CENTRAL_ROLES = ("server", "homeassistant", "bridge")
BRIDGE_FILE = "bridge.toml"  # in the site's folder: its secret

# The server's connections besides its door path, each with a username of its own under
# the replica's password (protocol.mqtt.connection_username): Mosquitto binds each client
# id to its username, and two connections of one username would take each other's
# persistent session over.
SERVER_CONNECTIONS = ("door", "decisions", "sensors")

DEVICE_EVENTS: dict[str, tuple[str, ...]] = {
    "door": ("tap", "result", "door"),
    "occupancy": ("motion", "count"),
}


# The installer's file: written with `--installer` only, removed by a run without it.
INSTALLER_FILE = "installer.toml"


@dataclass(frozen=True)
class Account:
    """One MQTT user: its name, what it is, and the TOML file (relative to the output
    folder) that carries its password."""

    username: str
    role: Role
    name: str  # the device id, or the server's or gateway's instance
    file: str


def accounts(
    site: SiteConfig,
    servers: list[str],
    gateway: str,
    *,
    installer: bool = False,
    bridge: bool = False,
) -> list[Account]:
    """Every user of the site's broker (and of the central one): the devices of the
    inventory, one per server replica (`server.toml` for the first,
    `server-{instance}.toml` for the others), the gateway, (`installer`) the installer's,
    for test taps while a site is set up, and (`bridge`) the site broker's on the central
    broker."""
    sid = site.id
    users = [Account(f"{sid}.{d.id}", d.kind, d.id, f"devices/{d.id}.toml") for d in site.devices]
    for n, instance in enumerate(servers):
        topics.check_id(instance, "server instance")
        file = "server.toml" if n == 0 else f"server-{instance}.toml"
        users.append(Account(f"{sid}.server.{instance}", "server", instance, file))
    topics.check_id(gateway, "gateway instance")
    users.append(Account(f"{sid}.gateway.{gateway}", "gateway", gateway, "gateway.toml"))
    if installer:
        users.append(Account(f"{sid}.installer", "installer", "installer", INSTALLER_FILE))
    if site.home_assistant.discovery:
        name = "homeassistant"
        users.append(Account(f"{sid}.{name}", "homeassistant", name, f"{name}.toml"))
    if bridge:
        users.append(Account(f"{sid}.bridge", "bridge", "bridge", BRIDGE_FILE))
    return users


def usernames(account: Account) -> list[str]:
    """The MQTT usernames of an account: one per connection of the program."""
    if account.role != "server":
        return [account.username]
    return [
        connection_username(account.username, part, main="door") or account.username
        for part in SERVER_CONNECTIONS
    ]


def grants(site: SiteConfig, account: Account) -> list[tuple[str, str]]:
    """(access, topic filter) lines of one user."""
    sid = site.id
    if account.role in DEVICE_EVENTS:
        device = account.name
        return [
            *(("write", topics.event(sid, device, kind)) for kind in DEVICE_EVENTS[account.role]),
            ("write", topics.status(sid, device)),
            ("read", topics.device_commands(sid, device)),
        ]
    if account.role == "bridge":  # the site's topics, each way as its bridge's lines say
        return [("readwrite", whole_site(sid))]
    if account.role == "server":
        ha = site.home_assistant
        discovery = [("write", config_filter(ha.prefix, sid))] if ha.discovery else []
        return [("readwrite", whole_site(sid)), *discovery]
    if account.role == "homeassistant":
        # Mosquitto refuses a subscription wider than a read line, and Home Assistant
        # subscribes to its whole prefix; it publishes only its own birth message there.
        prefix = site.home_assistant.prefix
        return [
            ("read", discovery_filter(prefix)),
            ("write", birth(prefix)),
            ("read", all_states(sid)),
            ("read", topics.all_server_status(sid)),
        ]
    if account.role == "installer":
        # `spacehub tap`: a tap at any door and every door's decisions (which name members):
        # for setting a site up, then removed by running provision without --installer.
        return [
            ("write", topics.all_events(sid, "tap")),
            ("read", topics.all_commands(sid, "decision")),
        ]
    doors = [topics.decision(sid, d.id) for d in site.door_devices()]
    return [
        ("read", whole_site(sid)),
        *(("write", t) for t in doors),
        ("write", topics.gateway_status(sid, account.name)),
    ]


def whole_site(site: str) -> str:
    """The filter of every topic of a site: docs/protocol.md's topics all start `hub/{site}/`."""
    return f"hub/{topics.check_id(site, 'site')}/#"


def acl_text(site: SiteConfig, users: list[Account]) -> str:
    """The acl_file: a `user` block per account and no lines for anonymous clients."""
    header = (
        f"# Written by `spacehub provision` for site {site.id}; run it again after changing\n"
        "# the site's devices. What a user may publish (write) and receive (read)."
    )
    return "\n\n".join([header, *acl_blocks(site, users)]) + "\n"


def acl_blocks(site: SiteConfig, users: list[Account]) -> list[str]:
    """One block of lines per username: a comment naming the account, its `user` line and
    its `topic` lines."""
    blocks = []
    for account in users:
        for username in usernames(account):
            lines = [f"# {account.role} {account.name}", f"user {username}"]
            lines += [f"topic {access} {filter_}" for access, filter_ in grants(site, account)]
            blocks.append("\n".join(lines))
    return blocks
