"""`spacehub tap`: publish a tap as a door controller would and print the decision.

With `--config`, it is that door: its site, device and `[mqtt]` account (URL, username,
password, CA) come from the door's TOML file, as `spacehub provision` writes it. Or it is
the site's installer, with the `installer.toml` that `spacehub provision --installer`
writes (its site and `[mqtt]` account, allowed a tap at any door): then `--device` names
the door. Unlike a door's own account, the installer's takes no running door's session
over.
"""

from __future__ import annotations

import argparse
import os
import queue
import time
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from devices.config import ConfigError, MqttConfig, load_door_config
from protocol import topics
from protocol.cards import CardError, normalise_uid
from protocol.messages import Decision, ProtocolError, Tap, decode, new_id, utcnow
from protocol.mqtt import MqttClient
from spacehub.errors import CliError

NO_ANSWER = 3
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"


def default_mqtt_url() -> str:
    """The broker a tap goes to without --mqtt-url or --config: SPACEHUB_MQTT_URL, else
    the local one on the standard port."""
    return os.environ.get("SPACEHUB_MQTT_URL") or DEFAULT_MQTT_URL


def send_tap(args: argparse.Namespace) -> int:
    """Exit 0 on a grant, 1 on a denial, 3 when no decision came in time."""
    site, device, mqtt = _who(args)
    try:
        card = normalise_uid(args.card)
        decision_topic = topics.decision(site, device)
        tap_topic = topics.tap(site, device)
    except (CardError, topics.TopicError) as exc:
        raise CliError(str(exc)) from None
    url = mqtt.url
    tap = Tap(id=new_id(), ts=utcnow(), card=card)
    answers: queue.Queue[Decision] = queue.Queue()

    def on_decision(msg) -> None:  # type: ignore[no-untyped-def]
        try:
            decision = decode(Decision, msg.payload)
        except ProtocolError:
            return
        if decision.id == tap.id:
            answers.put(decision)

    client = MqttClient(
        url,
        client_id=f"spacehub-tap-{new_id()[:8]}",
        username=mqtt.username,
        password=mqtt.password,
        ca_file=str(mqtt.ca_file) if mqtt.ca_file else None,
    )
    client.subscribe(decision_topic, on_decision)
    client.start()
    try:
        if not client.wait_connected(args.timeout):
            raise CliError(f"no MQTT broker answered at {url}")
        started = time.perf_counter()
        client.publish(tap_topic, tap)
        try:
            decision = answers.get(timeout=args.timeout)
        except queue.Empty:
            print(f"no decision within {args.timeout:g}s (is the server running?)")
            return NO_ANSWER
        ms = (time.perf_counter() - started) * 1000
    finally:
        client.stop()
    verdict = "granted" if decision.granted else "denied"
    name = f" ({decision.name})" if decision.name else ""
    print(f"{verdict}: {decision.reason}{name}, by {decision.by}, in {ms:.1f} ms")
    return 0 if decision.granted else 1


class InstallerFile(BaseModel):
    """`installer.toml`: the site and the installer's `[mqtt]` account."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: str
    mqtt: MqttConfig


def _who(args: argparse.Namespace) -> tuple[str, str, MqttConfig]:
    """The door's site and id, and the broker account to publish with."""
    if args.config:
        site, device, mqtt = from_file(Path(args.config), args.device)
        if args.mqtt_url:
            mqtt = mqtt.model_copy(update={"url": args.mqtt_url})
        return args.site or site, device, mqtt
    if not (args.site and args.device):
        raise CliError("give --site and --device, or the door's --config file")
    url = args.mqtt_url or default_mqtt_url()
    try:
        return args.site, args.device, MqttConfig(url=url)
    except ValidationError as exc:
        raise CliError(
            f"--mqtt-url: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"
        ) from None


def from_file(path: Path, device: str | None) -> tuple[str, str, MqttConfig]:
    """The site, door and account of a door's file, or of an installer's (`device` then
    names the door); `ca_file` relative to the file's folder."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}  # the door's loader says what is wrong with the file
    if "device" in data or "site" not in data or "mqtt" not in data:
        try:
            config = load_door_config(path)
        except ConfigError as exc:
            raise CliError(str(exc)) from None
        return config.site, device or config.device, config.mqtt
    try:
        installer = InstallerFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise CliError(f"{path}: {key}: {err['msg'].removeprefix('Value error, ')}") from None
    if device is None:
        raise CliError(f"{path} is an installer's file: give --device, the door to tap at")
    mqtt = installer.mqtt
    if mqtt.ca_file is not None and not mqtt.ca_file.is_absolute():
        mqtt = mqtt.model_copy(update={"ca_file": path.parent / mqtt.ca_file})
    return installer.site, device, mqtt
