"""The gateway through a real broker, next to a real server (door path, PolicyNotices and
the policy endpoint served over HTTP): silent while the server answers, answering when it
is down or slow, staff only when its snapshot is stale, from disk after a restart."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from gatewire import (
    CARDS,
    GATEWAY_TOKEN,
    KEY,
    MONDAY_NOON,
    SITE,
    UNKNOWN_CARD,
    Clock,
    sync,
    wait_for,
)
from sqlalchemy import select
from support.factories import membership

from gateway.gateway import run_gateway
from protocol import topics
from protocol.cards import card_hash
from protocol.messages import Decision, Status, Tap, decode, new_id, utcnow
from protocol.mqtt import MqttClient
from server.db import models
from server.db.meta import bump, version
from spacehub.broker import free_port

TAKEOVER = 0.5
# (door, card, granted, reason) as the server would answer them at MONDAY_NOON
CASES = [
    ("reader-sala-a", CARDS["staff"], True, "staff"),
    ("reader-main", CARDS["coworker"], True, "membership"),
    ("reader-cowork", CARDS["coworker"], True, "membership"),
    ("reader-main", CARDS["resident"], False, "no_membership"),
    ("reader-main", UNKNOWN_CARD, False, "unknown_card"),
]


@pytest.mark.alone  # the server's answer against the gateway's 0.5 s
def test_server_up_answers_and_the_gateway_stays_silent(system, make_gateway) -> None:
    system.start_ingest()
    gw = make_gateway()
    wait_for(gw.server_online)
    sync(system.doors, lambda: gw.counters.taps)

    taps = [system.doors.tap(door, card)[0] for door, card, _, _ in CASES]
    for tap in taps:
        assert system.doors.first(tap).decision.by == "server"
    system.doors.settle(taps[-1], TAKEOVER + 0.3)  # long enough for the gateway to butt in
    for tap, (_, _, granted, reason) in zip(taps, CASES, strict=True):
        heard = system.doors.all(tap)
        assert [(h.decision.by, h.decision.granted, h.decision.reason) for h in heard] == [
            ("server", granted, reason)
        ]
    assert gw.counters.answered == 0
    assert gw.counters.left_to_server == len(taps)


def test_server_down_the_gateway_answers_within_the_takeover_time(system, make_gateway) -> None:
    system.start_ingest()
    gw = make_gateway()
    wait_for(gw.server_online)
    system.stop_ingest()  # its retained status now says offline
    wait_for(lambda: not gw.server_online())
    sync(system.doors, lambda: gw.counters.taps)

    for door, card, granted, reason in CASES:
        tap, sent = system.doors.tap(door, card)
        heard = system.doors.first(tap)
        assert heard.at - sent < TAKEOVER
        assert heard.device == door
        decision = heard.decision
        assert (decision.by, decision.granted, decision.reason) == ("gateway", granted, reason)
        assert decision.unlock_s == (5.0 if granted else 0.0)
        assert decision.name is None  # the snapshot carries no names
    assert len(system.doors.settle(tap, 0.2)) == 1


def test_slow_server_the_gateway_answers_after_the_takeover_time(system, make_gateway) -> None:
    """A replica says online but does not answer: the gateway waits 500 ms, then answers,
    and answers no tap twice, whoever comes late."""
    online = Status(state="online", kind="server", ts=utcnow(), interval_s=10)
    wire = system.doors.client
    wire.publish(topics.server_status(SITE, "slow"), online, retain=True).wait_for_publish(5)
    gw = make_gateway()
    wait_for(gw.server_online)
    sync(system.doors, lambda: gw.counters.taps)

    tap, sent = system.doors.tap("reader-main", CARDS["coworker"])
    heard = system.doors.first(tap, timeout=3)
    assert TAKEOVER <= heard.at - sent < TAKEOVER + 0.5
    assert (heard.decision.by, heard.decision.reason) == ("gateway", "membership")

    # The server's late answer, and the tap delivered again: the gateway stays quiet.
    late = Decision(id=tap.id, granted=True, reason="membership", by="server")
    wire.publish(topics.decision(SITE, "reader-main"), late).wait_for_publish(5)
    wire.publish(topics.tap(SITE, "reader-main"), tap).wait_for_publish(5)
    heard_all = system.doors.settle(tap, TAKEOVER + 0.3)
    assert [h.decision.by for h in heard_all] == ["gateway", "server"]
    assert gw.counters.answered == 1


def test_a_tap_already_answered_or_replayed_is_not_answered(system, make_gateway) -> None:
    gw = make_gateway()  # no server at all: it would answer at once
    sync(system.doors, lambda: gw.counters.taps)
    wire = system.doors.client
    answered = Tap(id=new_id(), ts=utcnow(), card=CARDS["staff"])
    early = Decision(id=answered.id, granted=True, reason="staff", by="server")
    wire.publish(topics.decision(SITE, "reader-main"), early).wait_for_publish(5)
    wait_for(lambda: gw.counters.decisions == 1)
    replayed = Tap(id=new_id(), ts=utcnow(), card=CARDS["staff"], replay=True)
    for tap in (answered, replayed):
        wire.publish(topics.tap(SITE, "reader-main"), tap).wait_for_publish(5)
    fresh, _ = system.doors.tap("reader-main", CARDS["staff"])
    assert system.doors.first(fresh).decision.by == "gateway"
    assert [h.decision.by for h in system.doors.all(answered)] == ["server"]
    assert system.doors.all(replayed) == []


def test_stale_snapshot_admits_staff_only(system, make_gateway) -> None:
    clock = Clock(MONDAY_NOON)
    gw = make_gateway(clock=clock)
    sync(system.doors, lambda: gw.counters.taps)
    clock.advance(days=7, minutes=1)  # Monday a week on, 12:01: still opening hours

    staff, _ = system.doors.tap("reader-main", CARDS["staff"])
    member, _ = system.doors.tap("reader-main", CARDS["coworker"])
    decision = system.doors.first(staff).decision
    assert (decision.by, decision.granted, decision.reason) == ("gateway", True, "staff")
    decision = system.doors.first(member).decision
    assert (decision.by, decision.granted, decision.reason) == ("gateway", False, "policy_stale")


def test_policy_change_reaches_the_gateway_through_a_notice(system, make_gateway) -> None:
    gw = make_gateway(refresh=3600)
    sync(system.doors, lambda: gw.counters.taps)
    before, _ = system.doors.tap("reader-main", CARDS["resident"])
    assert system.doors.first(before).decision.reason == "no_membership"

    ctx = system.ctx
    hashed = card_hash(KEY, CARDS["resident"])
    with ctx.writes() as s, s.begin():
        held = s.scalars(select(models.Card).where(models.Card.uid_hash == hashed)).one()
        plan = (MONDAY_NOON - timedelta(days=1), MONDAY_NOON + timedelta(days=30))
        membership(s, held.member_id, "coworking", *plan)
        bump(s)
    with ctx.reads() as s:
        now_version = version(s)
    assert gw.wait_for_snapshot(now_version, timeout=3)
    after, _ = system.doors.tap("reader-main", CARDS["resident"])
    decision = system.doors.first(after).decision
    assert (decision.by, decision.granted, decision.reason) == ("gateway", True, "membership")


def test_restarted_gateway_without_a_server_decides_from_disk(
    system, make_gateway, tmp_path: Path
) -> None:
    first = make_gateway(data_dir=tmp_path / "gw")
    kept = first.store.current
    first.stop()
    system.http.stop()

    nowhere = f"http://127.0.0.1:{free_port()}"
    second = make_gateway(data_dir=tmp_path / "gw", server_url=nowhere, expect_snapshot=False)
    assert second.store.current == kept
    sync(system.doors, lambda: second.counters.taps)
    tap, _ = system.doors.tap("reader-cowork", CARDS["coworker"])
    decision = system.doors.first(tap).decision
    assert (decision.by, decision.granted, decision.reason) == ("gateway", True, "membership")
    wait_for(lambda: second.counters.fetch_errors >= 1)
    assert second.store.current == kept


def _statuses(url: str) -> tuple[MqttClient, queue.Queue[tuple[Status, bool]]]:
    heard: queue.Queue[tuple[Status, bool]] = queue.Queue()
    client = MqttClient(url, client_id=f"test-watch-{new_id()[:8]}")
    client.subscribe(
        topics.gateway_status(SITE, "main"),
        lambda m: heard.put((decode(Status, m.payload), m.retain)) if m.payload else None,
    )
    client.start()
    assert client.wait_connected(10)
    return client, heard


def _next_state(heard: queue.Queue[tuple[Status, bool]], state: str) -> Status:
    while True:
        status, _ = heard.get(timeout=10)
        if status.state == state:
            return status


def test_run_gateway_says_online_and_offline_when_stopped(system, tmp_path: Path) -> None:
    watch, heard = _statuses(system.broker_url)
    stop = threading.Event()
    runner = threading.Thread(
        target=run_gateway,
        args=(system.gateway_settings(heartbeat=0.2), tmp_path / "gw"),
        kwargs={"stop_event": stop},
    )
    runner.start()
    try:
        status = _next_state(heard, "online")
        assert (status.kind, status.interval_s) == ("gateway", 0.2)
        _next_state(heard, "online")  # the heartbeat
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()
    _next_state(heard, "offline")
    watch.stop()
    watch, heard = _statuses(system.broker_url)  # and it stays so, retained
    status, retained = heard.get(timeout=5)
    assert (status.state, retained) == ("offline", True)
    watch.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_spacehub_gateway_process_goes_offline_when_stopped_or_killed(
    system, tmp_path: Path, sig: signal.Signals
) -> None:
    """SIGTERM: it says offline itself; SIGKILL: its last will does."""
    watch, heard = _statuses(system.broker_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEHUB_")} | {
        "SPACEHUB_MQTT_URL": system.broker_url,
        "SPACEHUB_SERVER_URL": system.http.url,
        "SPACEHUB_GATEWAY_TOKEN": GATEWAY_TOKEN,
        "SPACEHUB_CARD_KEY": KEY,
    }
    argv = [sys.executable, "-m", "spacehub.cli", "gateway", "--site", SITE]
    proc = subprocess.Popen(
        [*argv, "--data-dir", str(tmp_path / "gw")],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _next_state(heard, "online")
        wait_for(lambda: (tmp_path / "gw" / "policy.json").exists())
        proc.send_signal(sig)
        _next_state(heard, "offline")
        code = proc.wait(10)
        assert code == (0 if sig == signal.SIGTERM else -signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        assert proc.stderr is not None
        proc.stderr.close()
        watch.stop()
