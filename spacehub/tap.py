"""`spacehub tap`: publish a tap as a door controller would and print the decision.

With `--config`, it is that door: its site, device and `[mqtt]` account (URL, username,
password, CA) come from the door's TOML file, as `spacehub provision` writes it.
"""

from __future__ import annotations

import argparse
import os
import queue
import time

from pydantic import ValidationError

from devices.config import ConfigError, MqttConfig, load_door_config
from protocol import topics
from protocol.cards import CardError, normalise_uid
from protocol.messages import Decision, ProtocolError, Tap, decode, new_id, utcnow
from protocol.mqtt import MqttClient
from spacehub.cli import CliError

NO_ANSWER = 3


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


def _who(args: argparse.Namespace) -> tuple[str, str, MqttConfig]:
    """The door's site and id, and the broker account to publish with."""
    if args.config:
        try:
            config = load_door_config(args.config)
        except ConfigError as exc:
            raise CliError(str(exc)) from None
        mqtt = config.mqtt
        if args.mqtt_url:
            mqtt = mqtt.model_copy(update={"url": args.mqtt_url})
        return args.site or config.site, args.device or config.device, mqtt
    if not (args.site and args.device):
        raise CliError("give --site and --device, or the door's --config file")
    url = args.mqtt_url or os.environ.get("SPACEHUB_MQTT_URL", "mqtt://127.0.0.1:1883")
    try:
        return args.site, args.device, MqttConfig(url=url)
    except ValidationError as exc:
        raise CliError(
            f"--mqtt-url: {exc.errors()[0]['msg'].removeprefix('Value error, ')}"
        ) from None
