"""The text of what `spacehub provision` writes: mosquitto.conf and the programs' TOML files.

Each TOML file has an `[mqtt]` table with `url`, `username`, `password` and `ca_file`
(relative to the file's folder, as devices/config.py, `spacehub server --config` and
`spacehub gateway --config` read it).
"""

from __future__ import annotations

import re
from pathlib import Path

from protocol import topics
from server.site import Device, SiteConfig
from spacehub.broker import persistence_settings, run_as_owner, session_settings
from spacehub.provision.files import toml_value

# docs/protocol.md: payloads are at most 4 KiB. Twice that leaves room for a newer, larger
# payload and still stops a runaway client from filling the broker's queues.
MESSAGE_SIZE_LIMIT = 8192


def mosquitto_conf(title: str, out: Path, port: int, bind: str | None) -> str:
    """One TLS listener, passwords and ACLs, no anonymous clients, persistence in out/data;
    `title` says whose broker it is."""
    listener = f"listener {port} {bind}" if bind else f"listener {port}"
    lines = [
        f"# {title}, written by `spacehub provision` and written again by",
        "# every run (change the site file or provision's options, not this file). Run it:",
        f"#   mosquitto -c {out / 'mosquitto.conf'}",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {out / 'passwd'}",
        f"acl_file {out / 'acl'}",
        f"message_size_limit {MESSAGE_SIZE_LIMIT}",
        *session_settings(),
        *persistence_settings(out / "data"),
        "log_dest stderr",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        run_as_owner(),  # the owner of these 0600 files, also when started as root
        "",
        listener,
        f"certfile {out / 'broker.crt'}",
        f"keyfile {out / 'broker.key'}",
        "tls_version tlsv1.2",
    ]
    # A client's id is its username: nobody can take over another client's session by
    # naming its client id (each server connection has a username of its own).
    lines.append("use_username_as_clientid true")
    return "\n".join(lines) + "\n"


def bridge_conf(site: SiteConfig, address: str, username: str, password: str, ca: Path) -> str:
    """The site broker's bridge to the central broker (`address` is HOST:PORT), over TLS
    with the account `username`, for the site's own topics only: the devices' events and
    statuses and the gateway's status go out; the doors' commands (door commands, the
    retained modes and emergency lists), the servers' statuses and the policy notices come
    in; decisions go both ways (the servers hear the gateway's; Mosquitto never sends a
    message back over the bridge it came by). A session kept on both sides holds what one
    sends while the link is down."""
    sid = site.id
    out = [*(topics.all_events(sid, kind) for kind in topics.EVENT_KINDS)]
    out += [topics.all_device_status(sid), topics.all_gateway_status(sid)]
    into = [topics.all_commands(sid, k) for k in topics.COMMAND_KINDS if k != "decision"]
    into += [topics.all_server_status(sid), topics.policy(sid)]
    lines = [
        "",
        "# The bridge to the central broker (README, A network of hubs)",
        f"connection {sid}-central",
        f"address {address}",
        "bridge_protocol_version mqttv311",
        f"bridge_cafile {ca}",
        "bridge_insecure false",
        "bridge_tls_version tlsv1.2",
        f"remote_username {username}",
        f"remote_password {password}",
        f"remote_clientid {username}",
        f"local_clientid {username}.local",
        "cleansession false",
        "notifications false",
        "restart_timeout 1 10",
        *(f"topic {filter_} out 1" for filter_ in out),
        *(f"topic {filter_} in 1" for filter_ in into),
        f"topic {topics.all_commands(sid, 'decision')} both 1",
    ]
    return "\n".join(lines) + "\n"


def mqtt_table(url: str, username: str, password: str, ca_file: str, intro: str) -> str:
    """The `[mqtt]` table of one account."""
    return (
        "[mqtt]\n"
        f"# {intro}\n"
        f"url = {toml_value(url)}\n"
        f"username = {toml_value(username)}\n"
        f"password = {toml_value(password)}\n"
        f"ca_file = {toml_value(ca_file)}  # relative to this file's folder\n"
    )


def program_toml(what: str, command: str, top: dict[str, str | bool], mqtt: str) -> str:
    """server.toml or gateway.toml: who the program is, and its `[mqtt]` table."""
    head = [
        f"# {what}, written by `spacehub provision`.",
        f"#   {command}",
        "# These settings take precedence over the SPACEHUB_* variables; the rest come from",
        "# the environment (docs/api.md, Configuration).",
    ]
    body = [f"{key} = {toml_value(value)}" for key, value in top.items()]
    return "\n".join([*head, *body, "", mqtt])


def device_toml(site: SiteConfig, device: Device, template: str | None, mqtt: str) -> str:
    """The device's complete config: its template (firmware_configs/devices/<id>.toml) with
    the `[mqtt]` table replaced, or, without one, the standard wiring of its kind."""
    if template is None:
        template = _default_device(site, device)
    return replace_table(template, "mqtt", mqtt)


_HEADER = re.compile(r"^\s*\[")


def replace_table(text: str, name: str, table: str) -> str:
    """`text` with its `[name]` table (header to the next table) replaced by `table`; added
    before the first table when there is none."""
    lines = text.splitlines(keepends=True)
    header = re.compile(rf"^\s*\[\s*{re.escape(name)}\s*\]\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        start = end = next((i for i, line in enumerate(lines) if _HEADER.match(line)), len(lines))
    else:
        after = (i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i]))
        end = next(after, len(lines))
    if start > 0 and lines[start - 1].strip():
        table = "\n" + table
    return "".join([*lines[:start], table, "\n" if end < len(lines) else "", *lines[end:]])


def _default_device(site: SiteConfig, device: Device) -> str:
    room = site.room(device.room)
    where = f"{room.name} ({room.id})" if room else device.room
    kind = "Door controller" if device.kind == "door" else "Occupancy sensor"
    head = [
        f"# {kind} of {where}, {site.site.name}; written by `spacehub provision` with the",
        "# standard wiring of firmware_configs/devices/: check [pins] against this device.",
        f"site = {toml_value(site.id)}",
        f"device = {toml_value(device.id)}",
    ]
    if device.kind == "door":
        pins = ["strike = 17", "green = 27", "red = 22", "buzzer = 23", "contact = 24"]
        pins += ["exit = 25", "fire = 5"]
        tables = ['[reader]\ntype = "fake"  # set the card reader this door has', "[pins]", *pins]
    else:
        head.append(f"sensor = {toml_value(device.sensor or 'pir')}")
        pins = ["pir = 6"] if device.sensor == "pir" else ["beam_a = 16", "beam_b = 26"]
        tables = ["[pins]", *pins]
    return "\n".join([*head, "", *tables]) + "\n"
