"""The server restarted under a tap a second, with the gateway answering the doors while it
was down: the gateway's grants queued in the server's persistent session are applied
before its first release sweep, so nobody the gateway let in is released as a no-show;
and that first sweep comes as soon as the backlog is through (the marker the server sends
itself is back), not after a quiet second that steady traffic never leaves (issue 8)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from procs import SITE, wait_status, wait_synced, wait_until

from protocol import topics
from protocol.messages import Result, Tap, new_id
from spacehub.broker import mosquitto_path

pytestmark = [
    pytest.mark.mosquitto,
    pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed"),
]

HOLDER, ABSENT, STAFF = "04C3D4E5", "04D4E5F6", "04A1B2C3"
GRACE_S = 5.0
START_IN_S = 3.0  # the bookings start this long after they are made
SWEEP_WITHIN_S = 5.0  # after the restart; the old rule waited 10 s for a quiet second


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_a_restart_under_a_tap_a_second_applies_the_gateways_grants_before_the_first_sweep(
    processes, broker, wires
):
    server = processes.server(no_show_grace=f"{GRACE_S:g}s", early_entry="15m")
    api = processes.api(server)
    holder = api.member("Jan Zieliński", "resident", HOLDER)
    absent = api.member("Olena Kowal", "ngo", ABSENT)
    api.member("Ewa Nowak", "staff", STAFF)
    gateway = processes.gateway(server)
    wire = wires(broker.url, name="doors")
    wire.door_statuses()
    wait_synced(server.database)
    wait_until(gateway.snapshot, 15, "the gateway's first snapshot", every=0.1)
    wait_status(broker.url, topics.gateway_status(SITE, "main"), "online")

    start = (datetime.now(UTC) + timedelta(seconds=START_IN_S + 1)).replace(microsecond=0)
    span = {"start": iso(start), "end": iso(start + timedelta(hours=1))}
    kept = api.post("/api/bookings", {"room_id": "sala-a", "member_id": holder, **span})["id"]
    missed = api.post("/api/bookings", {"room_id": "sala-b", "member_id": absent, **span})["id"]
    gateway.wait_for_booking(kept)
    gateway.wait_for_booking(missed)

    stop = threading.Event()

    def a_tap_a_second() -> None:  # staff at the entrance, from now until the end
        while not stop.wait(1.0):
            tap = Tap(id=new_id(), ts=datetime.now(UTC), card=STAFF)
            wire.send(topics.tap(SITE, "reader-main"), tap)

    tapping = threading.Thread(target=a_tap_a_second, daemon=True)
    tapping.start()
    try:
        server.kill()
        wait_status(broker.url, topics.server_status(SITE, "main"), "offline")
        assert datetime.now(UTC) < start, "the bookings began before the server was down"

        # During the outage, after the start: the holder at the room's door, let in by the
        # gateway; the door's Result says so. Both wait in the server's session.
        time.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds() + 0.5))
        tap = Tap(id=new_id(), ts=datetime.now(UTC), card=HOLDER, reader="in")
        wire.send_now(topics.tap(SITE, "reader-sala-a"), tap)
        decision = wire.first_decision(tap.id, timeout=3.0).message
        assert (decision.by, decision.granted, decision.reason) == ("gateway", True, "booking")
        result = Result(id=new_id(), tap=tap.id, applied="gateway", granted=True, reason="booking")
        wire.send_now(topics.result(SITE, "reader-sala-a"), result)

        # Down past both bookings' grace: a sweep before the backlog would release both.
        due = start + timedelta(seconds=GRACE_S + 1.5)
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        server.start()
        server.wait_healthy()
        healthy_at = time.monotonic()

        wait_until(
            lambda: api.get(f"/api/bookings/{missed}")["status"] == "released",
            SWEEP_WITHIN_S,
            "the first sweep (releasing the booking nobody came to)",
        )
        swept_after = time.monotonic() - healthy_at
        done = api.get(f"/api/bookings/{kept}")
        assert (done["status"], done["released_at"]) == ("checked_in", None), done
        assert api.get(f"/api/members/{holder}/no-shows") == []
        assert len(api.get(f"/api/members/{absent}/no-shows")) == 1
        output = server.log_tail(400)
        assert "door path: backlog applied" in output
        assert "sweeping anyway" not in output
    finally:
        stop.set()
        tapping.join(5)
    print(f"\nfirst sweep {swept_after:.1f} s after the restarted server was healthy")
