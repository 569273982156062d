"""Publishes junk taps at one door as fast as it can, from a process of its own, as an
attacker's machine on the site's network would (and off the test process's GIL):

    python tests/server/flooder.py URL DEVICE one|many COUNT

`one`: every tap is of the same unknown card; `many`: each of another one. Prints
`flooding` once connected, just before the first tap, and `done` once the broker has
taken them all."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from protocol import topics
from protocol.messages import Tap, encode, new_id
from protocol.mqtt import MqttClient

SITE = "piaseczno"


def main(url: str, device: str, cards: str, count: int) -> None:
    now = datetime.now(UTC)
    payloads = [
        encode(Tap(id=new_id(), ts=now, card="0DEADBEEF0" if cards == "one" else f"0E{i:06X}"))
        for i in range(count)
    ]
    client = MqttClient(url, client_id=f"test-flooder-{new_id()[:8]}")
    client.start()
    if not client.wait_connected(10):
        sys.exit("flooder: no broker")
    topic = topics.tap(SITE, device)
    print("flooding", flush=True)
    infos = [client.publish(topic, payload) for payload in payloads]
    for info in infos:
        info.wait_for_publish(60)
    print("done", flush=True)
    client.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
