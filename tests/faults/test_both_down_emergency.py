"""Server and gateway both down: a staff card in the door's emergency list (the retained
EmergencyList the server published before it went down) opens the door after the
decision timeout; any other card does not (docs/architecture.md, How a tap flows, step 3)."""

from __future__ import annotations

import time

import pytest
from procs import SITE, STRIKE, door_config, wait_status, wait_until

from devices.door import EmergencyStore
from protocol import topics
from protocol.cards import emergency_hash
from spacehub.broker import mosquitto_path

pytestmark = [
    pytest.mark.mosquitto,
    pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed"),
]

STAFF, RESIDENT = "04A1B2C3", "04C3D4E5"
DEVICE = "reader-sala-b"
TIMEOUT_S = 2.0


def test_both_down_an_emergency_card_opens_the_door_and_no_other_card_does(
    processes, broker, wires, doors, factory, tmp_path
):
    server = processes.server()
    api = processes.api(server)
    api.member("Ewa Nowak", "staff", STAFF)
    # A resident the server would let into the free room (a walk-in): not an emergency card.
    api.member("Jan Zieliński", "resident", RESIDENT)
    gateway = processes.gateway(server)
    wire = wires(broker.url, results=True, name="observer")
    door = doors(door_config(DEVICE, broker.url, tmp_path / DEVICE, unlock="1s"))
    controller = door.controller

    def staff_listed() -> bool:
        held = controller.emergency_list
        return held is not None and emergency_hash(held.salt, STAFF, held.kdf) in held.cards

    wait_until(staff_listed, 10, "the staff card in the door's emergency list")
    held = controller.emergency_list
    assert held is not None and emergency_hash(held.salt, RESIDENT, held.kdf) not in held.cards
    # Kept on the door's disk too (written just after it is taken in memory).
    store = EmergencyStore(tmp_path / DEVICE)

    def on_disk() -> bool:
        kept = store.load()
        return kept is not None and emergency_hash(kept.salt, STAFF, kept.kdf) in kept.cards

    wait_until(on_disk, 5, "the staff card in the list on the door's disk")
    wait_status(broker.url, topics.gateway_status(SITE, "main"), "online")
    gateway.kill()
    server.kill()
    # Their last wills: the doors and the gateway know nobody is there to answer.
    wait_status(broker.url, topics.gateway_status(SITE, "main"), "offline")
    wait_status(broker.url, topics.server_status(SITE, "main"), "offline")

    strike = factory.pin(STRIKE)
    assert door.reader is not None
    door.reader.present(STAFF)
    presented = time.monotonic()
    wait_until(lambda: strike.state, TIMEOUT_S + 1.0, "the strike released for the staff card")
    opened_after = time.monotonic() - presented
    assert opened_after >= TIMEOUT_S - 0.1, f"opened after {opened_after:.2f} s: who answered?"
    staff_result = wait_until(lambda: wire.results(), 3, "the door's Result")[0].message
    assert (staff_result.applied, staff_result.granted, staff_result.reason) == (
        "none",
        True,
        "emergency",
    )
    wait_until(lambda: not strike.state, 3, "the strike locked again")

    strike.clear_states()
    door.reader.present(RESIDENT)
    other = wait_until(lambda: len(wire.results()) >= 2 and wire.results()[1], 5, "a Result")
    assert (other.message.applied, other.message.granted) == ("none", False), other.message
    time.sleep(0.5)
    assert not any(s.state for s in strike.states), "the strike opened for a non-staff card"
    assert wire.decisions() == [], "someone answered while the server and gateway were down"
    print(f"\nthe emergency card opened the door {opened_after:.2f} s after it was presented")
