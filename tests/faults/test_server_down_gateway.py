"""The server killed (its last will says offline): the gateway answers the doors within a
second, what the doors did reaches the server's log exactly once after it returns, and
the holder the gateway let in is checked in, not released as a no-show (docs/architecture.md, How a
tap flows, step 4; issue 5, Reconciliation)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from procs import SITE, query, wait_status, wait_synced, wait_until

from protocol import topics
from protocol.messages import Result, Tap, new_id
from spacehub.broker import mosquitto_path

pytestmark = [
    pytest.mark.mosquitto,
    pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed"),
]

HOLDER, STAFF, UNKNOWN = "04C3D4E5", "04A1B2C3", "0DEADBEEF0"
GRACE_S = 5.0
START_IN_S = 3.0  # the booking starts this long after it is made
GATEWAY_WITHIN_S = 1.0


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_server_down_gateway_answers_and_the_server_reconciles_after_restart(
    processes, broker, wires
):
    server = processes.server(no_show_grace=f"{GRACE_S:g}s", early_entry="15m")
    api = processes.api(server)
    holder = api.member("Jan Zieliński", "resident", HOLDER)
    api.member("Ewa Nowak", "staff", STAFF)
    gateway = processes.gateway(server)
    wire = wires(broker.url, name="doors")
    wire.door_statuses()
    wait_synced(server.database)  # the server knows the doors' clocks, before and after
    wait_until(gateway.snapshot, 15, "the gateway's first snapshot", every=0.1)
    wait_status(broker.url, topics.gateway_status(SITE, "main"), "online")

    # Whole seconds (the API takes them), never sooner than START_IN_S from now.
    start = (datetime.now(UTC) + timedelta(seconds=START_IN_S + 1)).replace(microsecond=0)
    booking = api.post(
        "/api/bookings",
        {
            "room_id": "sala-a",
            "member_id": holder,
            "start": iso(start),
            "end": iso(start + timedelta(hours=1)),
        },
    )
    gateway.wait_for_booking(booking["id"])

    server.kill()
    killed = datetime.now(UTC)
    wait_status(broker.url, topics.server_status(SITE, "main"), "offline")  # its last will
    assert killed < start, "the booking began before the server was down: raise START_IN_S"

    # During the outage, after the booking's start: the holder at the room's door, a staff
    # member at the entrance, a stranger at the coworking door.
    time.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds() + 0.5))
    taps = [("reader-sala-a", HOLDER, True, "booking"), ("reader-main", STAFF, True, "staff")]
    taps.append(("reader-cowork", UNKNOWN, False, "unknown_card"))
    sent: dict[str, tuple[str, Tap]] = {}
    latencies = []
    for device, card, granted, reason in taps:
        tap = Tap(id=new_id(), ts=datetime.now(UTC), card=card, reader="in")
        at = wire.send_now(topics.tap(SITE, device), tap)
        heard = wire.first_decision(tap.id, timeout=3.0)
        latency = heard.at - at
        latencies.append(latency)
        decision = heard.message
        assert decision.by == "gateway", decision
        assert (decision.granted, decision.reason) == (granted, reason), (device, decision)
        assert latency <= GATEWAY_WITHIN_S, f"the gateway answered {device} in {latency:.2f} s"
        result = Result(
            id=new_id(),
            tap=tap.id,
            applied="gateway",
            granted=decision.granted,
            reason=decision.reason,
            ts=datetime.now(UTC),
        )
        wire.send_now(topics.result(SITE, device), result)
        sent[tap.id] = (result.id, tap)

    # Down past the booking's grace: a release sweep now would count the holder a no-show.
    release_due = start + timedelta(seconds=GRACE_S + 1.5)
    time.sleep(max(0.0, (release_due - datetime.now(UTC)).total_seconds()))
    down_for = (datetime.now(UTC) - killed).total_seconds()
    server.start()
    up_after = server.wait_healthy()

    done = wait_until(
        lambda: (b := api.get(f"/api/bookings/{booking['id']}"))["status"] != "booked" and b,
        15,
        "the booking checked in or released after the restart",
    )
    assert done["status"] == "checked_in", f"the holder the gateway let in was not: {done}"
    holder_tap = next(tap for _, tap in sent.values() if tap.card == HOLDER)
    checked_in_at = datetime.fromisoformat(done["checked_in_at"].replace("Z", "+00:00"))
    assert abs((checked_in_at - holder_tap.ts).total_seconds()) < 1.0, done
    assert done["released_at"] is None
    assert api.get(f"/api/members/{holder}/no-shows") == []

    # The server never answered a tap the gateway had answered, nor any tap twice: every
    # tap of its backlog is older than the doors' decision timeout.
    time.sleep(0.3)  # a decision it sent while applying the backlog has arrived by now
    for tap_id in sent:
        heard = [
            (h.message.by, h.message.granted, h.message.reason) for h in wire.decisions(tap_id)
        ]
        assert len(heard) == 1, f"tap {tap_id}: decisions heard {heard}"

    log = wait_until(
        lambda: (rows := api.access_by_id()) and len(rows) >= len(sent) and rows,
        10,
        "the outage's taps in the access log",
    )
    assert set(log) == set(sent)
    for (device, _card, granted, reason), (tap_id, _sent) in zip(taps, sent.items(), strict=True):
        assert len(log[tap_id]) == 1, log[tap_id]
        row = log[tap_id][0]
        assert (row["device"], row["by"], row["granted"], row["reason"]) == (
            device,
            "gateway",
            granted,
            reason,
        ), f"{tap_id}: logged {row}"
    results = dict(query(server.database, "SELECT event_id, result_id FROM access_events"))
    assert results == {tap_id: result_id for tap_id, (result_id, _) in sent.items()}
    print(
        f"\ngateway answered in {', '.join(f'{x * 1000:.0f} ms' for x in latencies)}; server "
        f"down {down_for:.1f} s, healthy {up_after:.1f} s after its restart"
    )
