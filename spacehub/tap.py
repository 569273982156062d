"""`spacehub tap`: publish a tap as a door controller would and print the decision."""

from __future__ import annotations

import argparse
import os
import queue
import time

from protocol import topics
from protocol.cards import CardError, normalise_uid
from protocol.messages import Decision, ProtocolError, Tap, decode, new_id, utcnow
from protocol.mqtt import MqttClient
from spacehub.cli import CliError

NO_ANSWER = 3


def send_tap(args: argparse.Namespace) -> int:
    """Exit 0 on a grant, 1 on a denial, 3 when no decision came in time."""
    try:
        card = normalise_uid(args.card)
        decision_topic = topics.decision(args.site, args.device)
        tap_topic = topics.tap(args.site, args.device)
    except (CardError, topics.TopicError) as exc:
        raise CliError(str(exc)) from None
    url = args.mqtt_url or os.environ.get("SPACEHUB_MQTT_URL", "mqtt://127.0.0.1:1883")
    tap = Tap(id=new_id(), ts=utcnow(), card=card)
    answers: queue.Queue[Decision] = queue.Queue()

    def on_decision(msg) -> None:  # type: ignore[no-untyped-def]
        try:
            decision = decode(Decision, msg.payload)
        except ProtocolError:
            return
        if decision.id == tap.id:
            answers.put(decision)

    client = MqttClient(url, client_id=f"spacehub-tap-{new_id()[:8]}")
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
