"""A door controller restarted while the broker is down: the events in its on-disk outbox
reach the server once both are back, the taps as replays, which the server records as
expired and never answers (docs/protocol.md, Tap `replay`; issue 5, Durable devices)."""

from __future__ import annotations

import time

import pytest
from procs import STRIKE, door_config, query, wait_synced, wait_until

from spacehub.broker import mosquitto_path

pytestmark = [
    pytest.mark.mosquitto,
    pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed"),
]

RESIDENT, UNKNOWN = "04C3D4E5", "0DEADBEEF0"
DEVICE = "reader-sala-a"


def test_door_restarted_while_the_broker_is_down_sends_its_queue_when_both_return(
    processes, broker, wires, doors, factory, tmp_path
):
    server = processes.server()
    api = processes.api(server)
    # Decided now, the resident's tap would take the free room as a walk-in.
    api.member("Jan Zieliński", "resident", RESIDENT)
    observer = wires(broker.url, results=True, name="observer", persistent=True)
    config = door_config(DEVICE, broker.url, tmp_path / DEVICE)
    first = doors(config)
    assert first.client.wait_connected(10)
    wait_synced(server.database, [DEVICE])

    wait_until(lambda: first.outbox.queued == 0, 5, "the door's outbox empty before the outage")
    broker.stop()
    down_at = time.monotonic()
    wait_until(lambda: not first.client.connected, 5, "the door noticing the broker gone")
    assert first.reader is not None
    for card in (RESIDENT, UNKNOWN):
        first.reader.present(card)
    # Two taps, then (after the decision timeout) their two Results "applied: none".
    wait_until(lambda: first.outbox.queued >= 4, 5, "the taps and their Results queued")
    assert not factory.pin(STRIKE).state
    first.stop()
    outbox = config.data_dir / "outbox.db"
    rows = query(outbox, "SELECT topic FROM outbox ORDER BY seq")
    kinds = [t.rsplit("/", 1)[1] for (t,) in rows]
    # (and any door event: the mock contact moving as the pins are set up and closed)
    assert [k for k in kinds if k != "door"] == ["tap", "tap", "result", "result"], rows

    second = doors(config)  # the same data_dir: the same outbox
    assert second.outbox.queued >= len(kinds)
    time.sleep(0.5)
    broker.start()
    back_at = time.monotonic()

    def arrived() -> list[tuple] | None:
        found = query(
            server.database,
            "SELECT event_id, by, replay, result_applied, result_granted FROM access_events",
        )
        return found if len(found) == 2 and all(r[3] is not None for r in found) else None

    logged = wait_until(arrived, 30, "the door's queued taps and Results at the server")
    arrived_after = time.monotonic() - back_at
    wait_until(lambda: second.outbox.queued == 0, 10, "the door's outbox emptied")
    for _tap, by, replay, applied, granted in logged:
        assert (by, replay, applied, granted) == ("expired", 1, "none", 0), logged
    api_rows = api.access_by_id()
    assert {tap: [r["by"] for r in found] for tap, found in api_rows.items()} == {
        tap: ["expired"] for tap, *_ in logged
    }
    time.sleep(0.5)
    taps = {tap for tap, *_ in logged}
    assert [h.message for h in observer.decisions() if h.message.id in taps] == []
    assert {h.message.tap for h in observer.results()} == taps
    assert api.get("/api/bookings") == [], "a replayed tap was decided (a walk-in was booked)"
    print(
        f"\nbroker down {back_at - down_at:.1f} s with a door restart; the queued events "
        f"reached the server {arrived_after:.1f} s after the broker was back"
    )
