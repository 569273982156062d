"""The server slow rather than down (SIGSTOP for longer than the gateway's takeover time,
then SIGCONT): the gateway answers, the door applies exactly one decision per tap, and the
server's log says which one (docs/protocol.md, Result: the access log follows Results)."""

from __future__ import annotations

import time

import pytest
from procs import SITE, STRIKE, door_config, wait_synced, wait_until

from protocol import topics
from protocol.messages import Result, Tap, decode
from spacehub.broker import mosquitto_path

pytestmark = [
    pytest.mark.mosquitto,
    pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed"),
]

STAFF, RESIDENT, UNKNOWN = "04A1B2C3", "04C3D4E5", "0DEADBEEF0"
DEVICE = "reader-sala-a"  # a free bookable room: a resident may walk in
PAUSE_S = 1.2  # longer than the takeover time (500 ms), shorter than the door's 2 s


def test_server_paused_one_decision_applied_per_tap_and_the_log_says_which(
    processes, broker, wires, doors, factory, tmp_path
):
    server = processes.server(unlock="1s")  # the decisions' unlock time: a short test
    api = processes.api(server)
    api.member("Ewa Nowak", "staff", STAFF)
    # The server would let the resident take the free room as a walk-in; the gateway, whose
    # snapshot is "stale" a second after each fetch, admits staff only: the two decisions
    # for the resident's tap differ, and the log must follow the one the door applied.
    api.member("Jan Zieliński", "resident", RESIDENT)
    gateway = processes.gateway(server, SPACEHUB_MAX_AGE="1s")
    wire = wires(broker.url, results=True, name="observer")
    taps: list[Tap] = []
    tap_seen: dict[str, float] = {}

    def on_tap(msg) -> None:  # type: ignore[no-untyped-def]
        tap = decode(Tap, bytes(msg.payload))
        tap_seen[tap.id] = time.monotonic()
        taps.append(tap)

    wire.client.subscribe(topics.tap(SITE, DEVICE), on_tap)
    door = doors(door_config(DEVICE, broker.url, tmp_path / DEVICE))
    assert door.client.wait_connected(10)
    wait_synced(server.database, [DEVICE])
    wait_until(
        lambda: (snap := gateway.snapshot()) is not None and len(snap.cards) == 2,
        15,
        "both cards in the gateway's snapshot",
        every=0.1,
    )
    assert door.reader is not None

    # The server up: it answers, the door applies its decision.
    door.reader.present(STAFF)
    first = wait_until(lambda: wire.results() and wire.results()[0], 5, "the door's first Result")
    assert (first.message.applied, first.message.granted) == ("server", True)
    wait_until(lambda: not factory.pin(STRIKE).state, 3, "the strike locked again")

    strike = factory.pin(STRIKE)
    strike.clear_states()
    server.pause()
    paused_at = time.monotonic()
    try:
        for n, card in enumerate((STAFF, UNKNOWN, RESIDENT), start=2):
            door.reader.present(card)
            wait_until(lambda n=n: len(taps) >= n, 3, "the tap sent")
            time.sleep(0.25)
        wait_until(lambda: len(wire.results()) >= 4, 3, "the door's Results during the pause")
        time.sleep(max(0.0, paused_at + PAUSE_S - time.monotonic()))
    finally:
        server.resume()
    paused = time.monotonic() - paused_at

    paused_taps = taps[1:4]
    wait_until(lambda: len(api.access_by_id()) >= 4, 10, "the taps in the access log")
    time.sleep(1.0)  # what the server sends and records late has happened by now
    log = api.access_by_id()
    wait_until(lambda: not strike.state, 3, "the strike locked again")
    levels = [bool(s.state) for s in strike.states]
    openings = sum(1 for a, b in zip(levels, levels[1:], strict=False) if b and not a)
    assert openings == 1, f"the strike opened {openings} times for one grant: {strike.states}"
    for tap in paused_taps:
        heard = wire.decisions(tap.id)
        assert heard and heard[0].message.by == "gateway", [h.message for h in heard]
        applied = heard[0].message
        results = [h.message for h in wire.results(tap.id)]
        assert len(results) == 1, f"the door applied {len(results)} decisions for {tap.id}"
        result: Result = results[0]
        assert (result.applied, result.granted) == ("gateway", applied.granted), result
        assert len(log[tap.id]) == 1, log[tap.id]
        row = log[tap.id][0]
        assert (row["by"], row["granted"], row["reason"]) == (
            "gateway",
            applied.granted,
            applied.reason,
        ), f"the door applied the gateway's {applied.reason}; logged {row}"
    # docs/protocol.md (Result): "The access log and check-ins follow Results where they
    # exist": a walk-in the server booked on a grant the door did not apply is undone.
    booked = [(b["id"], b["status"], b["title"]) for b in api.get("/api/bookings")]
    assert all(status in ("cancelled", "released") for _, status, _ in booked), (
        f"bookings made for taps whose doors stayed shut: {booked}"
    )
    server_too = [
        (h.message.granted, h.message.reason) for t in paused_taps for h in wire.decisions(t.id)[1:]
    ]
    answered = [wire.decisions(t.id)[0].at - tap_seen[t.id] for t in paused_taps]
    print(
        f"\nserver paused {paused:.1f} s; the gateway answered in "
        f"{', '.join(f'{x * 1000:.0f} ms' for x in answered)}; the server too, after the "
        f"pause (ignored by the door): {server_too}"
    )
