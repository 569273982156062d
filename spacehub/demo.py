"""`spacehub demo`: the whole system on one machine — broker, server, gateway and every
door of the demo site running the real device code on gpiozero mock pins.

With `--secure` it runs on what `spacehub provision` writes into `data_dir/provision`:
Mosquitto on the provisioned mosquitto.conf (TLS, a password and ACL per device, no
anonymous clients), and the server, the gateway and each device with its own account.

Things start in the order they depend on each other and stop in the reverse: the broker;
the database (seeded when new); the devices; the HTTP server with the MQTT ingest; the
gateway with its first snapshot; the simulated visitors; and last, once the banner is
printed, the HTTP port to the world.
Ctrl-C, SIGTERM or SIGHUP stop it all within a couple of seconds, with the devices saying
offline and flushing their outboxes while the broker is still there; SIGUSR1 (or Enter in
its terminal) prints the banner again.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config import GatewaySettings
from gateway.config import settings_file as gateway_file
from gateway.gateway import Gateway
from protocol.files import new_dirs
from server.app import create_app
from server.bookings import roomkeys
from server.context import ServerContext
from server.settings import Settings
from server.settings import settings_file as server_file
from spacehub.banner import Running, banner
from spacehub.broker import (
    BrokerStartError,
    EmbeddedBroker,
    MosquittoBroker,
    mosquitto_path,
    start_broker,
)
from spacehub.building import DEVICE_CONFIGS, Building, start_devices
from spacehub.console import Console
from spacehub.demomail import MailCatcher
from spacehub.demomail import install as install_mailbox
from spacehub.errors import CliError
from spacehub.seed import (
    DEMO_MEMBERS,
    SITE_CONFIG,
    STAFF_EMAIL,
    STAFF_PASSWORD_FILE,
    DemoMember,
    demo_site,
    seed,
    seed_member_accounts,
    seed_staff,
    staff_password,
)
from spacehub.traffic import Traffic
from spacehub.web import HttpServer

# What tests, docs and benchmarks take from here.
__all__ = [
    "DEMO_MEMBERS",
    "DEVICE_CONFIGS",
    "SITE_CONFIG",
    "Building",
    "DemoMember",
    "demo_site",
    "reset",
    "run_demo",
    "seed",
    "start_devices",
]

log = logging.getLogger(__name__)

DATABASE = "spacehub.db"
# What a run leaves in its data folder, and `--reset` removes: the database (with SQLite's
# side files) and its card key, the broker's sessions and log (the secure broker's
# sessions are in provision/data), the gateway's snapshot, the devices' outboxes and
# emergency lists. The rest of `provision/` (the --secure accounts and keys) stays.
RUN_STATE = (
    DATABASE,
    f"{DATABASE}-wal",
    f"{DATABASE}-shm",
    f"{DATABASE}-journal",
    "card.key",
    STAFF_PASSWORD_FILE,
    "broker",
    "provision/data",
    "gateway",
    "devices",
)


def run_demo(args: argparse.Namespace) -> int:
    """Start everything, print how to use it, serve until Ctrl-C, then stop everything.
    0 after a clean stop, whatever signal asked for it."""
    data_dir = Path(args.data_dir).resolve()
    if args.secure and args.broker == "embedded":
        raise CliError("--secure needs Mosquitto (TLS, passwords, ACLs): not --broker embedded")
    if args.reset and reset(data_dir):
        _say(f"spacehub demo: starting over in {data_dir}")
    new_dirs(data_dir)  # the database's folder: 0700 when the demo makes it
    shown: list[str] = []

    def announce(running: Running) -> None:
        shown.append(banner(running))
        _say(shown[0])

    with Console() as console:
        with ExitStack() as stack:
            _start(args, data_dir, stack, keys=console.keys, announce=announce)
            console.serve(show=lambda: _say(shown[0]))
            _say("spacehub demo: stopping ...")
        asked = console.stop_asked_at or time.monotonic()
    _say(
        f"spacehub demo: stopped in {time.monotonic() - asked:.1f} s "
        "(devices offline, outboxes flushed, broker stopped)"
    )
    return 0


def _say(text: str) -> None:
    with contextlib.suppress(OSError):  # a closed terminal (SIGHUP) cannot be told
        print(text, flush=True)


def _start(
    args: argparse.Namespace,
    data_dir: Path,
    stack: ExitStack,
    *,
    keys: bool,
    announce: Callable[[Running], None],
) -> None:
    """Start every part, each with its stop on `stack`; `announce` what the banner tells
    once all are up, and only then answer on the HTTP port (whoever finds the server up
    finds the whole demo up and its banner printed)."""
    broker: EmbeddedBroker | MosquittoBroker
    accounts: Accounts | None = None
    try:
        if args.secure:
            broker, accounts = start_secure_broker(args.mqtt_port, data_dir)
        else:
            broker = start_broker(args.broker, port=args.mqtt_port, data_dir=data_dir / "broker")
    except BrokerStartError as exc:
        raise CliError(str(exc)) from None
    stack.callback(broker.stop)
    catcher = start_mail_catcher(stack)
    mail: dict[str, Any] = {"smtp_url": catcher.url} if catcher else {}  # else the env's
    settings = Settings(
        database_url=f"sqlite:///{data_dir}/{DATABASE}",
        site_config=SITE_CONFIG,
        admin_token=os.environ.get("SPACEHUB_ADMIN_TOKEN") or secrets.token_urlsafe(24),
        public_url=os.environ.get("SPACEHUB_PUBLIC_URL") or f"http://127.0.0.1:{args.http_port}",
        **mail,
        **(accounts.server if accounts else {"mqtt_url": broker.url}),
    )
    ctx = ServerContext.create(settings, site=demo_site(args.no_show_grace))
    stack.callback(ctx.close)
    seeded = seed(ctx, traffic=args.traffic)
    password = staff_password(data_dir)
    seed_staff(ctx, password=password)
    seed_member_accounts(ctx)
    if accounts:
        building = start_devices(ctx, None, data_dir, config_dir=accounts.devices)
    else:
        building = start_devices(ctx, broker.url, data_dir)
    stack.callback(building.stop)
    # Stopped before the devices: a demo that stops is not nine devices gone offline to
    # alert staff about (their goodbyes wait in the server's session for its next start).
    app = create_app(settings, ctx=ctx)
    if catcher is not None:
        install_mailbox(app, catcher)
    http = HttpServer(app, port=args.http_port, access_log=args.verbose)
    stack.callback(http.stop)
    http.start()
    gateway = Gateway(
        GatewaySettings(
            site=ctx.site.id,
            server_url=http.inner_url,  # answered before the public port opens
            admin_token=settings.admin_token,
            card_key=ctx.card_key,
            **(accounts.gateway if accounts else {"mqtt_url": broker.url}),
        ),
        data_dir / "gateway",
    )
    gateway.start()
    stack.callback(gateway.stop)
    if not gateway.wait_for_snapshot(timeout=10):
        log.warning("the gateway has no policy snapshot yet; it keeps asking")
    if args.traffic:
        traffic = Traffic(ctx, building)
        traffic.start()
        stack.callback(traffic.stop)  # before the devices stop: it leaves their pins idle
    announce(
        Running(
            http_port=args.http_port,
            broker_name=broker.name,
            broker_url=broker.url,
            token=settings.admin_token or "",
            staff=(STAFF_EMAIL, password),
            data_dir=data_dir,
            earlier_data=not seeded,
            secure_folder=accounts.folder if accounts else None,
            keys=keys,
            panels=panel_links(ctx),
            mail=catcher.url if catcher else None,
        )
    )
    http.open()


def panel_links(ctx: ServerContext) -> tuple[tuple[str, str], ...]:
    """Each bookable room's name and door panel path (its key drawn once, kept after)."""
    links = []
    with ctx.writes() as session, session.begin():
        for config in ctx.site.rooms:
            if config.bookable:
                room, _ = roomkeys.panel_key(session, site=ctx.site, room_id=config.id)
                links.append((config.name, roomkeys.panel_path(room.id, room.panel_key or "")))
    return tuple(links)


def start_mail_catcher(stack: ExitStack) -> MailCatcher | None:
    """The demo's own SMTP server (its mail shown at /demo/mail), unless
    SPACEHUB_SMTP_URL names a real one."""
    if os.environ.get("SPACEHUB_SMTP_URL"):
        return None
    catcher = MailCatcher()
    catcher.start()
    stack.callback(catcher.stop)
    return catcher


def reset(data_dir: Path) -> bool:
    """Remove what an earlier run left in `data_dir` (RUN_STATE); whether there was any."""
    found = False
    for name in RUN_STATE:
        path = data_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        found = True
    return found


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
        installer=True,  # the banner's `spacehub tap` line taps through this account
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
