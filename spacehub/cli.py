"""`spacehub`: one command with a subcommand per program (docs/api.md, Command line).

Each subcommand imports only what it needs, so a Raspberry Pi with `spacehub[pi]` runs
`spacehub door` without FastAPI or SQLAlchemy installed."""

from __future__ import annotations

import argparse
import functools
import logging
import signal
import sys
from collections.abc import Callable, Sequence

from protocol.durations import parse_duration
from spacehub import logs
from spacehub.errors import CliError

__all__ = ["CliError", "build_parser", "main"]


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1-65535)")
    return int(text)


def _host_port(text: str) -> tuple[str, int]:
    """HOST:PORT of a broker (a name or an IPv4 address: Mosquitto's `address` line)."""
    host, _, port = text.rpartition(":")
    if not host or ":" in host or any(c.isspace() or c in "[]#" for c in host):
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (a name or IPv4 address)")
    return host, _port(port)


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 120:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (1-120)")
    return int(text)


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate from 0 to 1")
    return rate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spacehub", description="Doors, rooms, bookings and occupancy of a community space."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    # Also after the command (`spacehub demo --verbose`); SUPPRESS keeps a -v given before it.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = functools.partial(sub.add_parser, parents=[verbose])

    demo = add("demo", help="the whole system on one machine, no set-up")
    demo.add_argument("--http-port", type=_port, default=8000)
    demo.add_argument("--mqtt-port", type=_port, default=1883)
    demo.add_argument("--data-dir", default="var/demo")
    demo.add_argument("--no-show-grace", type=_duration, default=None, metavar="DURATION")
    demo.add_argument("--traffic", action=argparse.BooleanOptionalAction, default=True)
    demo.add_argument("--broker", choices=["auto", "mosquitto", "embedded"], default="auto")
    demo.add_argument(
        "--secure",
        action="store_true",
        help="Mosquitto on files written by `spacehub provision`: TLS, passwords, ACLs",
    )
    demo.add_argument(
        "--reset",
        action="store_true",
        help="start over: a new database, and no broker sessions, gateway snapshot or device "
        "outboxes of an earlier run (the --secure accounts are kept)",
    )

    server = add("server", help="the server: HTTP API, MQTT ingest, scheduler")
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=_port, default=8000)
    server.add_argument("--config", metavar="FILE", help=CONFIG_HELP.format("server.toml"))

    gateway = add("gateway", help="the on-site gateway")
    gateway.add_argument("--site", help="required unless the --config file names it")
    gateway.add_argument("--data-dir", default="var/gateway")
    gateway.add_argument("--config", metavar="FILE", help=CONFIG_HELP.format("gateway.toml"))

    door = add("door", help="a door controller, as run on a Raspberry Pi")
    door.add_argument("--config", required=True, metavar="FILE")

    sensor = add("sensor", help="an occupancy sensor, as run on a Raspberry Pi")
    sensor.add_argument("--config", required=True, metavar="FILE")

    broker = add("broker", help="the embedded MQTT broker alone")
    broker.add_argument("--port", type=_port, default=1883)

    tap = add("tap", help="publish a tap as a door controller would, print the decision")
    tap.add_argument("--site")
    tap.add_argument("--device")
    tap.add_argument("--mqtt-url", default=None, help="default: SPACEHUB_MQTT_URL")
    tap.add_argument(
        "--config",
        metavar="FILE",
        help="the door's TOML file: its site, device and [mqtt] account (instead of "
        "--site, --device and --mqtt-url)",
    )
    tap.add_argument("--timeout", type=_duration, default=3.0)
    tap.add_argument("card")

    sim = add(
        "simulate",
        help="a simulated month of the demo site through the server's own logic; "
        "prints the community outcome",
    )
    sim.add_argument("--days", type=_days, default=30, help="days to simulate (1-120)")
    sim.add_argument("--no-show-rate", type=_rate, default=0.3, metavar="RATE", help="0 to 1 (0.3)")
    sim.add_argument("--seed", type=int, default=1, help="the same seed, the same month")
    sim.add_argument("--json", action="store_true", help="print one JSON object")

    prov = add("provision", help="the broker's and every program's files for a site")
    prov.add_argument("--site-config", required=True, metavar="FILE")
    prov.add_argument("--out", required=True, metavar="DIR")
    prov.add_argument("--rotate", action="store_true", help="new passwords, CA and keys")
    prov.add_argument(
        "--installer",
        action="store_true",
        help="also an installer's account (installer.toml) for `spacehub tap` at any door; "
        "run again without it once the site is set up",
    )
    prov.add_argument(
        "--host",
        action="append",
        metavar="NAME",
        help="a name or address of the broker for its certificate (repeatable); the first "
        "is the one in the programs' URLs (default: localhost)",
    )
    prov.add_argument("--port", type=_port, default=8883, help="the TLS listener's port")
    prov.add_argument("--bind", metavar="ADDRESS", help="listen on this address only")
    prov.add_argument(
        "--server-instance", action="append", metavar="NAME", help="one per replica (main)"
    )
    prov.add_argument("--gateway-instance", default="main", metavar="NAME")
    prov.add_argument(
        "--device-configs",
        metavar="DIR",
        help="the devices' TOML templates (default: ../devices beside the site file's folder)",
    )
    prov.add_argument(
        "--bridge-to",
        type=_host_port,
        metavar="HOST:PORT",
        help="the site's servers run centrally: also write the central broker's files "
        "(--central) and bridge this site's broker to it, for the site's topics only",
    )
    prov.add_argument(
        "--central",
        metavar="DIR",
        help="with --bridge-to: the central broker's folder, shared by every site bridged "
        "to it; each site's run adds its own accounts (default: OUT/central)",
    )
    return parser


VERBOSE_HELP = "log debug messages, and the libraries' info messages"
CONFIG_HELP = (
    "a {} written by `spacehub provision`: its [mqtt] table and instance take "
    "precedence over the SPACEHUB_* variables"
)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The demo's devices are simulated: what they do is on the dashboard, not news here.
    quiet = ("devices",) if args.command == "demo" else ()
    logs.configure(verbose=args.verbose, quiet=quiet)
    command: Callable[[argparse.Namespace], int] = COMMANDS[args.command]
    # systemd stops a program with SIGTERM: unwind as for Ctrl-C, so devices say offline,
    # outboxes flush and the demo stops its broker, instead of dying where it stands.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return command(args)
    except CliError as exc:
        print(f"spacehub {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _demo(args: argparse.Namespace) -> int:
    from spacehub.demo import run_demo

    return run_demo(args)


def _server(args: argparse.Namespace) -> int:
    from server.settings import Settings
    from server.site import SiteConfigError, load_site

    settings = _settings(Settings, args.config)
    try:
        site = load_site(settings.site_config)
    except SiteConfigError as exc:
        raise CliError(str(exc)) from None
    # The application's modules only once the configuration is known to be good.
    from server.app import create_app
    from server.context import ServerContext
    from server.db.inventory import InventoryConflict
    from server.heap import bound_allocator, settle_heap
    from spacehub.web import PromptServer, config

    bound_allocator()  # before the threads start

    if not settings.admin_token:
        logging.warning("SPACEHUB_ADMIN_TOKEN is not set: every /api call will get 401")
    try:  # the database migrated and its inventory in line before anything listens
        ctx = ServerContext.create(settings, site=site)
    except InventoryConflict as exc:
        raise CliError(str(exc)) from None
    try:
        app = create_app(settings, ctx=ctx)
        settle_heap()
        level = "debug" if args.verbose else "info"
        PromptServer(config(app, args.host, args.port, log_level=level)).run()
    finally:
        ctx.close()
    return 0


def _settings(cls, config_file: str | None = None):  # type: ignore[no-untyped-def]
    """The server's settings from the environment, and from `config_file` (a server.toml)
    on top when given."""
    from pydantic import ValidationError

    from server.settings import SettingsFileError, settings_file

    try:
        from_file = settings_file(config_file) if config_file else {}
    except SettingsFileError as exc:
        raise CliError(str(exc)) from None
    try:
        return cls(**from_file)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        if field in from_file:
            key = f"{config_file}: {field.replace('mqtt_', 'mqtt.', 1)}"
        else:
            key = "SPACEHUB_" + field.upper()
        raise CliError(f"{key}: {err['msg']}") from None


def _door(args: argparse.Namespace) -> int:
    from devices.config import ConfigError, load_door_config
    from devices.door import run_door

    try:
        config = load_door_config(args.config)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    run_door(config)
    return 0


def _sensor(args: argparse.Namespace) -> int:
    from devices.config import ConfigError, load_sensor_config
    from devices.sensor import run_sensor

    try:
        config = load_sensor_config(args.config)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    run_sensor(config)
    return 0


def _gateway(args: argparse.Namespace) -> int:
    from gateway.config import GatewayConfigError, load_settings
    from gateway.gateway import run_gateway

    if args.site is None and args.config is None:
        raise CliError("--site is required (or a --config file that names the site)")
    overrides = {"site": args.site} if args.site is not None else {}
    try:
        settings = load_settings(args.config, **overrides)
    except GatewayConfigError as exc:
        raise CliError(str(exc)) from None
    run_gateway(settings, args.data_dir)
    return 0


def _broker(args: argparse.Namespace) -> int:
    from spacehub.broker import run_embedded

    run_embedded(args.port)
    return 0


def _tap(args: argparse.Namespace) -> int:
    from spacehub.tap import send_tap

    return send_tap(args)


def _simulate(args: argparse.Namespace) -> int:
    from spacehub.simulate.command import run_simulation

    return run_simulation(args)


def _provision(args: argparse.Namespace) -> int:
    from spacehub.provision import ProvisionError, run_provision

    try:
        return run_provision(args)
    except ProvisionError as exc:
        raise CliError(str(exc)) from None


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": _demo,
    "server": _server,
    "gateway": _gateway,
    "door": _door,
    "sensor": _sensor,
    "broker": _broker,
    "tap": _tap,
    "simulate": _simulate,
    "provision": _provision,
}

if __name__ == "__main__":
    sys.exit(main())
