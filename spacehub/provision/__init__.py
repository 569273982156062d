"""`spacehub provision`: everything a site's broker and programs need to talk securely.

From the site inventory (firmware_configs/sites/<site>.toml) it writes into one folder:

- `mosquitto.conf`: one TLS listener, passwords and ACLs, no anonymous clients, size
  limits, persistence in `data/`, absolute paths;
- `passwd` (Mosquitto 2's PBKDF2-SHA512 hashes) and `acl` (acl.py);
- `ca.crt`, `ca.key`, `broker.crt`, `broker.key` (certs.py);
- `devices/<device>.toml` for every device (its template from firmware_configs/devices/
  with the `[mqtt]` table filled) and `devices/ca.crt`, what a device's Pi needs;
- `server.toml` and `gateway.toml`, read by `spacehub server|gateway --config FILE`;
- with `installer`, `installer.toml` for `spacehub tap` at any door while a site is set up
  (a run without it removes that account and its file);
- with `bridge_to` (the central broker's HOST:PORT), the central broker's folder (`central`,
  default `central/` in `out`, shared by every site bridged to it: central.py): its
  mosquitto.conf, passwd, acl, CA and certificate, with the servers' (and Home
  Assistant's) accounts and the bridge's (`bridge.toml`); the site's mosquitto.conf then
  bridges the site's topics to it, and server.toml names it.

Running it again keeps every password, the CA and the keys (`rotate` makes new ones, but
for the central broker's CA).
Secrets are 0600 in 0700 folders.

>>> result = provision(Options(site_config=Path("firmware_configs/sites/piaseczno.toml"),
...                            out=Path("/etc/spacehub"), hosts=("broker.lan",)))  # doctest: +SKIP
>>> result.url  # doctest: +SKIP
'mqtts://broker.lan:8883'
"""

from __future__ import annotations

import argparse
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from devices.config import ConfigError, load_door_config, load_sensor_config
from protocol.topics import TopicError
from server.site import SiteConfig, SiteConfigError, load_site
from spacehub.provision import central as hub
from spacehub.provision import certs
from spacehub.provision.acl import (
    CENTRAL_ROLES,
    INSTALLER_FILE,
    Account,
    accounts,
    acl_text,
    usernames,
)
from spacehub.provision.configs import (
    bridge_conf,
    device_toml,
    mosquitto_conf,
    mqtt_table,
    program_toml,
)
from spacehub.provision.files import PUBLIC, folder, read_toml, write
from spacehub.provision.passwd import passwd_text, read_hashes

CA_FILE = "ca.crt"
CENTRAL = "central"  # the central broker's folder, beside the site's files


class ProvisionError(ValueError):
    """Provision cannot go on; one line naming the file and why."""


@dataclass(frozen=True)
class Options:
    site_config: Path
    out: Path
    hosts: tuple[str, ...] = ()  # the broker's names; the first is the one clients use
    port: int = 8883
    bind: str | None = None  # the listener's address; None: every interface
    rotate: bool = False
    installer: bool = False  # the installer's account (test taps at any door): setup only
    servers: tuple[str, ...] = ("main",)
    gateway: str = "main"
    device_configs: Path | None = None  # default: ../devices beside the site file's folder
    bridge_to: tuple[str, int] | None = None  # the central broker's (host, port)
    central: Path | None = None  # the central broker's folder; None: out/central


@dataclass
class Result:
    out: Path
    url: str
    users: list[Account]
    new_passwords: list[str] = field(default_factory=list)  # usernames
    new_ca: bool = False
    new_broker_cert: bool = False
    central: Path | None = None  # the central broker's folder (with `bridge_to` only)

    @property
    def mosquitto_conf(self) -> Path:
        return self.out / "mosquitto.conf"

    @property
    def central_conf(self) -> Path:
        """The central broker's mosquitto.conf (written with `bridge_to` only)."""
        return (self.central or self.out / CENTRAL) / "mosquitto.conf"

    def toml(self, account: Account) -> Path:
        return self.out / account.file

    def file_of(self, role: str, name: str | None = None) -> Path:
        """The TOML of the first account with this role (and name)."""
        return next(self.toml(a) for a in self.users if a.role == role and name in (None, a.name))


def provision(options: Options) -> Result:
    """Write (or bring up to date) everything in `options.out`; see the module docstring."""
    try:
        site = load_site(options.site_config)
    except SiteConfigError as exc:
        raise ProvisionError(str(exc)) from None
    out = folder(options.out.resolve())
    bridge = options.bridge_to
    middle = folder((options.central or out / CENTRAL).resolve()) if bridge else None
    for sub in (out / "devices", out / "data", *([middle / "data"] if middle else [])):
        folder(sub)
    try:
        users = accounts(
            site,
            list(options.servers),
            options.gateway,
            installer=options.installer,
            bridge=bridge is not None,
        )
    except TopicError as exc:
        raise ProvisionError(str(exc)) from None
    url = _url(options.hosts[0] if options.hosts else "localhost", options.port)
    central_url = _url(*bridge) if bridge else url
    central = [a for a in users if bridge and a.role in CENTRAL_ROLES]
    result = Result(out=out, url=url, users=users, central=middle)

    passwords = {a.username: _password(out, a, options.rotate, result) for a in users}
    templates = options.device_configs or options.site_config.parent.parent / "devices"
    replicas = len(options.servers) > 1
    tomls = {}
    for a in users:
        where, ca_file = url, CA_FILE
        if middle and a in central:  # the central CA's certificate, from the file's folder
            where, ca_file = central_url, os.path.relpath(middle / CA_FILE, (out / a.file).parent)
        tomls[a] = _toml(site, a, where, passwords[a.username], ca_file, templates, replicas)
    for account, text in tomls.items():  # a bad template stops everything before any write
        if account.role in ("door", "occupancy"):
            _check_device(out / account.file, text, site.id, account)
    ca = _ca(site, out, options.rotate, result)
    broker = _broker_cert(ca, out, list(options.hosts), options.rotate, result)
    hub_tls = None
    if bridge and middle:  # the central CA is kept, also with `rotate` (central.py)
        hub_ca = _stored_ca(middle) or certs.new_ca(hub.CA_NAME)
        names = hub.hosts(_load(middle / "broker.crt", certs.load_cert), bridge[0])
        hub_tls = hub_ca, _broker_cert(hub_ca, middle, names, options.rotate, result)

    write(out / "ca.key", certs.key_pem(ca.key))
    write(out / CA_FILE, certs.cert_pem(ca.cert), PUBLIC)
    write(out / "devices" / CA_FILE, certs.cert_pem(ca.cert), PUBLIC)
    conf = mosquitto_conf(f"Mosquitto of site {site.id}", out, options.port, options.bind)
    if bridge and middle and hub_tls:
        (hub_ca, tls), (host, port) = hub_tls, bridge
        write(middle / "ca.key", certs.key_pem(hub_ca.key))
        write(middle / CA_FILE, certs.cert_pem(hub_ca.cert), PUBLIC)
        link = next(a for a in central if a.role == "bridge")
        address, password = f"{host}:{port}", passwords[link.username]
        conf += bridge_conf(site, address, link.username, password, middle / CA_FILE)
        title = "The central Mosquitto of the sites bridged to it"
        hub_conf = mosquitto_conf(title, middle, port, options.bind)
        _broker_files(middle, site, central, passwords, tls, hub_conf, shared=True)
    site_users = [a for a in users if a not in central]
    _broker_files(out, site, site_users, passwords, broker, conf)
    for account, text in tomls.items():
        write(out / account.file, text)
    if not options.installer:  # its account is gone from passwd and acl: so is its password
        (out / INSTALLER_FILE).unlink(missing_ok=True)
    return result


def _password(out: Path, account: Account, rotate: bool, result: Result) -> str:
    """The account's password from its file of the last run, else a new one."""
    path = out / account.file
    try:
        data = None if rotate else read_toml(path)
    except (OSError, ValueError) as exc:
        raise ProvisionError(
            f"{path}: cannot read its password ({exc}); --rotate replaces it"
        ) from None
    mqtt = (data or {}).get("mqtt")
    if isinstance(mqtt, dict) and mqtt.get("username") == account.username:
        password = mqtt.get("password")
        if isinstance(password, str) and password:
            return password
    result.new_passwords.append(account.username)
    return secrets.token_urlsafe(24)


def _url(host: str, port: int) -> str:
    return f"mqtts://{f'[{host}]' if ':' in host else host}:{port}"


def _broker_files(
    where: Path,
    site: SiteConfig,
    users: list[Account],
    passwords: dict[str, str],
    tls: tuple[certs.Key, x509.Certificate],
    conf: str,
    *,
    shared: bool = False,
) -> None:
    """One broker's key and certificate, passwd and acl (for `users`; `shared`: the central
    broker's, keeping the other sites' users) and mosquitto.conf."""
    logins = {name: passwords[a.username] for a in users for name in usernames(a)}
    previous = read_hashes(where / "passwd")
    if shared:
        old_acl = (where / "acl").read_text() if (where / "acl").is_file() else ""
        passwd, acl = hub.passwd(site, logins, previous), hub.acl(site, users, old_acl)
    else:
        passwd, acl = passwd_text(logins, previous), acl_text(site, users)
    write(where / "broker.key", certs.key_pem(tls[0]))
    write(where / "broker.crt", certs.cert_pem(tls[1]), PUBLIC)
    write(where / "passwd", passwd)
    write(where / "acl", acl)
    write(where / "mosquitto.conf", conf)


def _ca(site: SiteConfig, out: Path, rotate: bool, result: Result) -> certs.Authority:
    """The CA as it is on disk (a new one with `rotate` or when missing)."""
    ca = None if rotate else _stored_ca(out)
    if ca is None:
        result.new_ca = True
        return certs.new_ca(site.id)
    return ca


def _stored_ca(where: Path) -> certs.Authority | None:
    """The CA whose key and certificate are in `where`; None when one is missing."""
    key = _load(where / "ca.key", certs.load_key)
    cert = _load(where / CA_FILE, certs.load_cert)
    return None if key is None or cert is None else certs.Authority(key, cert)


def _broker_cert(
    ca: certs.Authority, out: Path, hosts: list[str], rotate: bool, result: Result
) -> tuple[certs.Key, x509.Certificate]:
    """The broker's key in `out` as it is on disk (a new one with `rotate` or when
    missing), and a broker certificate that fits it, the CA and `hosts`."""
    key = None if rotate else _load(out / "broker.key", certs.load_key)
    key = key or certs.new_key()
    cert = None if rotate or result.new_ca else _load(out / "broker.crt", certs.load_cert)
    if cert is None or not certs.broker_cert_fits(cert, ca, key, hosts):
        cert = certs.issue_broker_cert(ca, key, hosts)
        result.new_broker_cert = True
    return key, cert


def _load(path: Path, parse: Any) -> Any:
    try:
        return parse(path.read_bytes())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ProvisionError(f"{path}: not readable ({exc}); --rotate replaces it") from None


def _toml(
    site: SiteConfig,
    account: Account,
    url: str,
    password: str,
    ca_file: str,
    templates: Path,
    replicas: bool,
) -> str:
    if account.role in ("door", "occupancy"):
        device = site.device(account.name)
        assert device is not None
        path = templates / f"{device.id}.toml"
        template = path.read_text(encoding="utf-8") if path.is_file() else None
        intro = "this device's own account on the site's broker"
        mqtt = mqtt_table(url, account.username, password, ca_file, intro)
        return device_toml(site, device, template, mqtt)
    intro = f"the {account.role}'s own account on the site's broker"
    mqtt = mqtt_table(url, account.username, password, ca_file, intro)
    if account.role == "server":
        # several replicas split the site's messages (README, Several replicas)
        top: dict[str, str | bool] = {"instance": account.name}
        if replicas:
            top["shared_subscriptions"] = True
        command = f"spacehub server --config {account.file}"
        return program_toml(f"Server replica {account.name} of site {site.id}", command, top, mqtt)
    if account.role == "installer":
        command = f"spacehub tap --config {account.file} --device DOOR CARD"
        top = {"site": site.id}
        return program_toml(f"Test taps at the doors of site {site.id}", command, top, mqtt)
    if account.role == "bridge":  # mosquitto.conf's bridge carries it; kept for the next run
        intro = "the site broker's bridge account on the central broker"
        return mqtt_table(url, account.username, password, ca_file, intro)
    if account.role == "homeassistant":  # no spacehub program reads it: a person does
        return (
            f"# Home Assistant's account on site {site.id}, written by `spacehub provision`:\n"
            "# give it, with ca.crt, to Home Assistant's MQTT integration.\n\n" + mqtt
        )
    command = f"spacehub gateway --config {account.file}"
    top = {"site": site.id, "instance": account.name}
    return program_toml(f"The gateway of site {site.id}", command, top, mqtt)


def _check_device(path: Path, text: str, site: str, account: Account) -> None:
    """`text`, to be written to `path`, loads as devices/config.py loads it, as the device
    it is for."""
    loader = load_door_config if account.role == "door" else load_sensor_config
    trial = path.with_name(f".{path.name}.check")
    try:
        write(trial, text)
        config = loader(trial)
    except ConfigError as exc:
        raise ProvisionError(f"{path} (from its template): {exc}") from None
    finally:
        trial.unlink(missing_ok=True)
    if (config.site, config.device, config.mqtt.username) != (site, account.name, account.username):
        raise ProvisionError(
            f"{path}: its template names site {config.site!r} and device {config.device!r}"
        )


def run_provision(args: argparse.Namespace) -> int:
    """`spacehub provision`: write the files and say what changed and what to run."""
    options = Options(
        site_config=Path(args.site_config),
        out=Path(args.out),
        hosts=tuple(args.host or ()),
        port=args.port,
        bind=args.bind,
        rotate=args.rotate,
        installer=args.installer,
        servers=tuple(args.server_instance or ("main",)),
        gateway=args.gateway_instance,
        device_configs=Path(args.device_configs) if args.device_configs else None,
        bridge_to=args.bridge_to,
        central=Path(args.central) if args.central else None,
    )
    result = provision(options)
    kept = len(result.users) - len(result.new_passwords)
    out = result.out
    print(f"provisioned {out} for {result.url}")
    print(f"  users: {len(result.users)} ({len(result.new_passwords)} new passwords, {kept} kept)")
    print(
        f"  CA: {'new' if result.new_ca else 'kept'}; broker certificate: "
        f"{'new' if result.new_broker_cert else 'kept'}"
    )
    print("run:")
    if options.bridge_to:
        print(f"  mosquitto -c {result.central_conf}   (the central broker, on its host)")
    print(f"  mosquitto -c {result.mosquitto_conf}")
    print(f"  spacehub server --config {result.file_of('server')}")
    print(f"  spacehub gateway --config {result.file_of('gateway')}")
    print(f"  spacehub door|sensor --config {out}/devices/<device>.toml   (on each Pi, beside")
    print("    a copy of devices/ca.crt)")
    if any(a.role == "homeassistant" for a in result.users):
        print(
            f"  Home Assistant's MQTT integration: the account in {result.file_of('homeassistant')}"
        )
    return 0
