"""`spacehub demo`: the whole system on one machine — broker, server, gateway and every
door of the demo site running the real device code on gpiozero mock pins.

With `--secure` it runs on what `spacehub provision` writes into `data_dir/provision`:
Mosquitto on the provisioned mosquitto.conf (TLS, a password and ACL per device, no
anonymous clients), and the server, the gateway and each device with its own account."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from gpiozero.pins.mock import MockFactory
from sqlalchemy.orm import Session

from devices.config import ConfigError, load_door_config, load_sensor_config
from devices.door import DoorRunner, drive_idle
from devices.readers import FakeReader
from devices.sensor import SensorRunner, drive_idle_sensor
from gateway.config import GatewaySettings
from gateway.config import settings_file as gateway_file
from gateway.gateway import Gateway
from server import members
from server.bookings import insert_booking
from server.checkin import check_in
from server.context import ServerContext
from server.settings import Settings
from server.settings import settings_file as server_file
from server.site import SiteConfig, load_site
from spacehub.broker import (
    BrokerStartError,
    EmbeddedBroker,
    MosquittoBroker,
    mosquitto_path,
    start_broker,
)
from spacehub.cli import CliError

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SITE_CONFIG = ROOT / "firmware_configs" / "sites" / "piaseczno.toml"
DEVICE_CONFIGS = ROOT / "firmware_configs" / "devices"


@dataclass(frozen=True)
class DemoMember:
    name: str
    category: str
    card: str
    plan: str | None
    shows: str  # what the card does at the doors
    suspended: bool = False


DEMO_MEMBERS = [
    DemoMember("Ewa Nowak", "staff", "04A1B2C3", None, "staff: every door, any time"),
    DemoMember("Anna Kowalska", "business", "04B2C3D4", "coworking", "coworking, opening hours"),
    DemoMember("Piotr Wiśniewski", "resident", "04C3D4E5", "coworking-24h", "coworking, any time"),
    DemoMember("Olena Szewczenko", "ngo", "04D4E5F6", None, "no membership: refused"),
    DemoMember("Jan Zieliński", "resident", "04E5F6A7", "coworking", "suspended: refused", True),
]


def run_demo(args: argparse.Namespace) -> int:
    """Start everything, print how to use it, serve until Ctrl-C, then stop everything."""
    import uvicorn

    from server.app import create_app

    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    if args.secure and args.broker == "embedded":
        raise CliError("--secure needs Mosquitto (TLS, passwords, ACLs): not --broker embedded")
    with ExitStack() as stack:
        broker: EmbeddedBroker | MosquittoBroker
        accounts: Accounts | None = None
        try:
            if args.secure:
                broker, accounts = start_secure_broker(args.mqtt_port, data_dir)
            else:
                broker = start_broker(
                    args.broker, port=args.mqtt_port, data_dir=data_dir / "broker"
                )
        except BrokerStartError as exc:
            raise CliError(str(exc)) from None
        stack.callback(broker.stop)
        settings = Settings(
            database_url=f"sqlite:///{data_dir}/spacehub.db",
            site_config=SITE_CONFIG,
            admin_token=os.environ.get("SPACEHUB_ADMIN_TOKEN") or secrets.token_urlsafe(24),
            **(accounts.server if accounts else {"mqtt_url": broker.url}),
        )
        ctx = ServerContext.create(settings, site=demo_site(args.no_show_grace))
        stack.callback(ctx.close)
        seed(ctx, traffic=args.traffic)
        if accounts:
            building = start_devices(ctx, None, data_dir, config_dir=accounts.devices)
        else:
            building = start_devices(ctx, broker.url, data_dir)
        stack.callback(building.stop)
        gateway = Gateway(
            GatewaySettings(
                site=ctx.site.id,
                server_url=f"http://127.0.0.1:{args.http_port}",
                admin_token=settings.admin_token,
                card_key=ctx.card_key,
                **(accounts.gateway if accounts else {"mqtt_url": broker.url}),
            ),
            data_dir / "gateway",
        )
        gateway.start()
        stack.callback(gateway.stop)
        if args.traffic:
            from spacehub.traffic import Traffic

            traffic = Traffic(ctx, building)
            traffic.start()
            stack.callback(traffic.stop)  # before the devices stop: it leaves their pins idle
        app = create_app(settings, ctx=ctx)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=args.http_port,
                log_level="warning",
                timeout_graceful_shutdown=2,  # open dashboards' event streams must not hold it
            )
        )
        print(
            banner(args, broker.name, broker.url, settings.admin_token or "", accounts), flush=True
        )
        server.run()
    return 0


@dataclass(frozen=True)
class Accounts:
    """The provisioned folder the secure demo runs on, and the programs' settings from it."""

    folder: Path
    server: dict[str, object]
    gateway: dict[str, object]

    @property
    def devices(self) -> Path:
        return self.folder / "devices"


def start_secure_broker(port: int, data_dir: Path) -> tuple[MosquittoBroker, Accounts]:
    """Provision the demo site into `data_dir/provision` (keeping the secrets of an earlier
    run) for a broker on 127.0.0.1:`port`, and start Mosquitto on that configuration."""
    from spacehub.provision import Options, ProvisionError, provision

    if mosquitto_path() is None:
        raise BrokerStartError("--secure: mosquitto is not installed (apt install mosquitto)")
    options = Options(
        site_config=SITE_CONFIG,
        out=data_dir / "provision",
        hosts=("127.0.0.1",),
        port=port,
        bind="127.0.0.1",
        device_configs=DEVICE_CONFIGS,
    )
    try:
        result = provision(options)
    except ProvisionError as exc:
        raise CliError(str(exc)) from None
    broker = MosquittoBroker(port, data_dir / "broker", config_file=result.mosquitto_conf, tls=True)
    broker.start()
    gateway = {k: v for k, v in gateway_file(result.file_of("gateway")).items() if k != "site"}
    return broker, Accounts(result.out, server_file(result.file_of("server")), gateway)


@dataclass
class Building:
    """Every demo device, running the real device code on its own mock pins."""

    doors: dict[str, DoorRunner] = field(default_factory=dict)
    sensors: dict[str, SensorRunner] = field(default_factory=dict)
    pins: dict[str, MockFactory] = field(default_factory=dict)

    def stop(self) -> None:
        for door in self.doors.values():
            door.stop()
        for sensor in self.sensors.values():
            sensor.stop()


def start_devices(
    ctx: ServerContext,
    broker_url: str | None,
    data_dir: Path,
    kinds: tuple[str, ...] = ("door", "occupancy"),
    config_dir: Path = DEVICE_CONFIGS,
) -> Building:
    """A door controller (fake reader) or occupancy sensor for every device of the site
    whose kind is in `kinds`, from its file in `config_dir`, pointed at `broker_url`
    (None: the broker and account of its file)."""
    building = Building()
    for device in ctx.site.devices:
        if device.kind not in kinds:
            continue
        factory = MockFactory()
        building.pins[device.id] = factory
        path = config_dir / f"{device.id}.toml"
        update = {"data_dir": data_dir / "devices" / device.id}
        if device.kind == "door":
            config = _load(load_door_config, path, broker_url, update)
            door = DoorRunner(config, pin_factory=factory, reader=FakeReader())
            drive_idle(factory, config.pins)
            door.start()
            building.doors[device.id] = door
        else:
            sensor_config = _load(load_sensor_config, path, broker_url, update)
            drive_idle_sensor(factory, sensor_config.pins)
            sensor = SensorRunner(sensor_config, pin_factory=factory)
            sensor.start()
            building.sensors[device.id] = sensor
    return building


def _load(loader, path: Path, broker_url: str | None, update: dict):  # type: ignore[no-untyped-def]
    """A device's config file, pointed at the demo's broker (unless None) and data folder."""
    try:
        config = loader(path)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    if broker_url is not None:
        update = {**update, "mqtt": config.mqtt.model_copy(update={"url": broker_url})}
    return config.model_copy(update=update)


def demo_site(no_show_grace: float | None) -> SiteConfig:
    """The demo site, with `--no-show-grace` applied."""
    site = load_site(SITE_CONFIG)
    if no_show_grace is None:
        return site
    access = site.access.model_copy(update={"no_show_grace": no_show_grace})
    return site.model_copy(update={"access": access})


def seed(ctx: ServerContext, *, traffic: bool) -> None:
    """The demo members, their cards and plans, once per database; with `traffic`, a few
    bookings of today as well."""
    now = ctx.clock()
    with ctx.writes() as session, session.begin():
        if members.list_members(session, limit=1):
            return
        seed_members(ctx, session, now)
        if traffic:
            seed_bookings(ctx, session, now)


def seed_bookings(ctx: ServerContext, session: Session, now: datetime) -> None:
    """Bookings that make the day visible: one about to start that nobody will come to
    (released after the no-show grace), one in progress, one this evening."""
    ids = {m.name: m.id for m in members.list_members(session)}
    soon = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for room, holder, start, hours, title in [
        ("sala-a", "Olena Szewczenko", soon, 1, "Spotkanie fundacji"),
        ("sala-b", "Anna Kowalska", soon - timedelta(minutes=30), 1, "Warsztaty firmowe"),
        ("sala-a", "Piotr Wiśniewski", soon + timedelta(hours=3), 2, "Klub planszówek"),
    ]:
        booking = insert_booking(
            session,
            site=ctx.site,
            room_id=room,
            member_id=ids[holder],
            start=start,
            end=start + timedelta(hours=hours),
            now=now,
            title=title,
        )
        if start < now:  # already under way: its holder came in before the demo started
            check_in(session, booking_id=booking.id, now=now)


def seed_members(ctx: ServerContext, session: Session, now: datetime) -> None:
    """The demo members with their cards, plans and (for one) a suspension."""
    for demo in DEMO_MEMBERS:
        email = demo.name.split()[0].lower() + "@example.org"
        member = members.create_member(session, name=demo.name, category=demo.category, email=email)
        members.add_card(session, card_key=ctx.card_key, member_id=member.id, uid=demo.card)
        if demo.plan:
            members.add_membership(
                session,
                site=ctx.site,
                member_id=member.id,
                plan=demo.plan,
                valid_from=now - timedelta(days=30),
                valid_until=now + timedelta(days=365),
            )
        if demo.suspended:
            members.update_member(
                session,
                member_id=member.id,
                changes={"suspended_until": now + timedelta(days=7)},
            )


def banner(
    args: argparse.Namespace,
    broker_name: str,
    broker_url: str,
    token: str,
    accounts: Accounts | None = None,
) -> str:
    base = f"http://127.0.0.1:{args.http_port}"
    note = (
        " (embedded: for showing the system only; it keeps no queue across a restart "
        "and has no ACLs)"
        if broker_name == "embedded"
        else ""
    )
    tap = "spacehub tap --site piaseczno --device reader-main 04A1B2C3"
    if accounts is not None:
        note = (
            "\n             secure: TLS with the site's own CA, a password and ACL per device,"
            f"\n             no anonymous clients; files in {accounts.folder}"
        )
        tap = f"spacehub tap --config {accounts.devices / 'reader-main.toml'} 04A1B2C3"
    cards = "\n".join(f"    {m.card}  {m.name:<18} {m.shows}" for m in DEMO_MEMBERS)
    return f"""
spacehub demo: PiasecznoHUB
  dashboard: {base}/
  sign in:   {base}/login?token={token}
  token:     {token}
  API:       {base}/docs
  broker:    {broker_name} at {broker_url}{note}
  data:      {Path(args.data_dir).resolve()}

  demo cards:
{cards}

  try:  {tap}
        curl -H 'Authorization: Bearer {token}' {base}/api/access-events

Ctrl-C stops everything.
"""
