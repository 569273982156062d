"""Emergency lists: every door keeps a retained list of its staff cards as salted hashes,
through a real broker, and the list follows registrations, revocations and members."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from support.clock import Clock
from support.factories import live_settings
from support.waiting import wait_for

from protocol import topics
from protocol.cards import EMERGENCY_KDF, card_hash, emergency_hash
from protocol.messages import EmergencyList, Tap, decode, encode, new_id
from protocol.mqtt import MqttClient
from server.access import emergency
from server.access.aftertap import IDLE_S
from server.adapters import door_state
from server.adapters.door_ingest import DoorIngest
from server.context import ServerContext
from server.db import models
from server.db.meta import bump
from server.people import members

SITE = "piaseczno"
KEY = "test-card-key-0123456789"
NOW = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
EWA, JAN, OLD = "04A1B2C3", "04C3D4E5", "04E5F6A7B8C9D0"


class Lists:
    """What a door would hold: the latest retained EmergencyList of every device."""

    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, EmergencyList] = {}
        self.client = MqttClient(url, client_id=f"test-doors-{new_id()[:8]}")
        self.client.subscribe(f"hub/{SITE}/dev/+/cmd/emergency", self._on_list)
        self.client.start()
        assert self.client.wait_connected(10)

    def _on_list(self, msg) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            self._latest[topics.parse(msg.topic).device] = decode(EmergencyList, msg.payload)  # type: ignore[index]

    def latest(self) -> dict[str, EmergencyList]:
        with self._lock:
            return dict(self._latest)

    def wait(self, predicate, timeout: float = 5.0) -> dict[str, EmergencyList]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            latest = self.latest()
            if predicate(latest):
                return latest
            time.sleep(0.02)
        raise AssertionError(f"emergency lists never matched: {self.latest()}")


@pytest.fixture
def hub(broker, tmp_path, mqtt_client):
    clock = Clock(NOW)
    ctx = ServerContext.create(live_settings(tmp_path, broker.url, KEY, prefix="e"), clock=clock)
    with ctx.writes() as s, s.begin():
        ewa = members.create_member(s, name="Ewa Nowak", category="staff")
        jan = members.create_member(s, name="Jan Zieliński", category="resident")
        members.add_card(s, card_key=KEY, member_id=ewa.id, uid=EWA)
        members.add_card(s, card_key=KEY, member_id=jan.id, uid=JAN)
        ids = {"ewa": ewa.id, "jan": jan.id}
    running = DoorIngest(ctx)
    running.start()
    assert running.client.wait_connected(10)
    doors = [d.id for d in ctx.site.door_devices()]
    try:
        yield ctx, clock, broker, ids, doors
    finally:
        running.stop()
        ctx.close()


def salts(ctx) -> dict[str, str]:
    with ctx.reads() as s:
        rows = s.execute(select(models.Door.id, models.Door.emergency_salt))
        by_door = {door: salt for door, salt in rows}
    return {d.id: by_door[d.door] for d in ctx.site.door_devices()}  # type: ignore[index]


def holding(uid: str | None, doors: list[str], ctx):
    """A predicate: every door's list is exactly `uid`'s hash under its salt (or empty)."""
    salt_of = salts(ctx)

    def check(latest: dict[str, EmergencyList]) -> bool:
        return all(
            d in latest
            and latest[d].salt == salt_of[d]
            and latest[d].kdf == EMERGENCY_KDF
            and latest[d].cards
            == ([] if uid is None else [emergency_hash(salt_of[d], uid, latest[d].kdf)])
            for d in doors
        )

    return check


def test_every_door_has_a_retained_list_of_staff_cards_only(hub):
    ctx, _clock, broker, _ids, doors = hub
    assert set(doors) == {"reader-main", "reader-sala-a", "reader-sala-b", "reader-cowork"}
    first = Lists(broker.url)
    try:
        first.wait(holding(EWA, doors, ctx))
    finally:
        first.client.stop()
    # A door that connects after they were published gets what the broker retained.
    lists = Lists(broker.url)
    try:
        latest = lists.wait(holding(EWA, doors, ctx))
    finally:
        lists.client.stop()
    salt_of = salts(ctx)
    assert len(set(salt_of.values())) == len(doors)  # a salt of its own for each door
    for device in doors:
        kdf = latest[device].kdf
        assert emergency_hash(salt_of[device], JAN, kdf) not in latest[device].cards
        assert latest[device].model_dump()["cards"] == [emergency_hash(salt_of[device], EWA, kdf)]
    # nothing of it is a UID or the key's hash the snapshot carries
    with ctx.reads() as s:
        stored = set(s.scalars(select(models.EmergencyHash.hash)))
    assert card_hash(KEY, EWA) not in stored and EWA not in stored


def test_revoking_the_staff_card_empties_the_lists(hub):
    ctx, clock, broker, _ids, doors = hub
    lists = Lists(broker.url)
    try:
        lists.wait(holding(EWA, doors, ctx))
        with ctx.writes() as s, s.begin():
            card = s.scalars(
                select(models.Card).where(models.Card.uid_hash == card_hash(KEY, EWA))
            ).one()
            members.revoke_card(s, card_id=card.id, now=clock.now)
        lists.wait(holding(None, doors, ctx))
    finally:
        lists.client.stop()


def test_a_member_no_longer_staff_or_suspended_leaves_the_lists(hub):
    ctx, clock, broker, ids, doors = hub
    lists = Lists(broker.url)
    try:
        lists.wait(holding(EWA, doors, ctx))
        until = clock.now + timedelta(days=1)
        with ctx.writes() as s, s.begin():
            members.update_member(s, member_id=ids["ewa"], changes={"suspended_until": until})
        lists.wait(holding(None, doors, ctx))
        with ctx.writes() as s, s.begin():
            members.update_member(s, member_id=ids["ewa"], changes={"suspended_until": None})
        lists.wait(holding(EWA, doors, ctx))
        with ctx.writes() as s, s.begin():
            members.update_member(s, member_id=ids["ewa"], changes={"category": "resident"})
        lists.wait(holding(None, doors, ctx))
        with ctx.reads() as s:
            assert s.scalars(select(models.EmergencyHash)).all() == []  # forgotten, not hidden
    finally:
        lists.client.stop()


def test_a_suspension_that_ends_brings_the_card_back_without_any_write(hub, monkeypatch):
    ctx, clock, broker, ids, doors = hub
    monkeypatch.setattr(door_state, "EMERGENCY_REFRESH_S", 0.2)
    with ctx.writes() as s, s.begin():
        until = clock.now + timedelta(hours=1)
        members.update_member(s, member_id=ids["ewa"], changes={"suspended_until": until})
    lists = Lists(broker.url)
    try:
        lists.wait(holding(None, doors, ctx))
        clock.now += timedelta(hours=1)
        lists.wait(holding(EWA, doors, ctx))
    finally:
        lists.client.stop()


def test_a_tap_gives_a_staff_card_registered_without_its_uid_its_hashes(hub):
    """Cards registered before emergency lists existed, or of a member made staff later:
    the server has no UID to hash until the card is tapped."""
    ctx, clock, broker, ids, doors = hub
    with ctx.writes() as s, s.begin():
        s.add(models.Card(member_id=ids["ewa"], uid_hash=card_hash(KEY, OLD)))
        bump(s)
    lists = Lists(broker.url)
    try:
        lists.wait(holding(EWA, doors, ctx))
        tap = Tap(id=new_id(), ts=clock.now, card=OLD)
        lists.client.publish(topics.tap(SITE, "reader-main"), tap).wait_for_publish(5)

        def both(latest: dict[str, EmergencyList]) -> bool:
            salt_of = salts(ctx)
            return all(
                d in latest
                and sorted(latest[d].cards)
                == sorted(emergency_hash(salt_of[d], uid, latest[d].kdf) for uid in (EWA, OLD))
                for d in doors
            )

        lists.wait(both)
        # A resident's tap adds nothing.
        jan = Tap(id=new_id(), ts=clock.now, card=JAN)
        lists.client.publish(topics.tap(SITE, "reader-main"), jan).wait_for_publish(5)
        wait_for(lambda: ctx.access.counters.answered == 2)
        with ctx.reads() as s:
            assert len(s.scalars(select(models.EmergencyHash)).all()) == 2 * len(doors)
    finally:
        lists.client.stop()


def test_a_card_reissued_to_a_non_staff_member_leaves_the_lists(hub):
    ctx, clock, broker, ids, doors = hub
    with ctx.writes() as s, s.begin():
        card = s.scalars(
            select(models.Card).where(models.Card.uid_hash == card_hash(KEY, EWA))
        ).one()
        members.revoke_card(s, card_id=card.id, now=clock.now)
        members.add_card(s, card_key=KEY, member_id=ids["jan"], uid=EWA)
    lists = Lists(broker.url)
    try:
        lists.wait(holding(None, doors, ctx))
        with ctx.writes() as s, s.begin():
            card = s.scalars(
                select(models.Card).where(models.Card.uid_hash == card_hash(KEY, EWA))
            ).one()
            members.revoke_card(s, card_id=card.id, now=clock.now)
            members.add_card(s, card_key=KEY, member_id=ids["ewa"], uid=EWA)
        lists.wait(holding(EWA, doors, ctx))
    finally:
        lists.client.stop()


def test_the_lists_survive_a_server_restart_with_the_same_salts(hub):
    ctx, _clock, broker, _ids, doors = hub
    before = salts(ctx)
    again = ServerContext.create(ctx.settings, clock=ctx.clock)
    try:
        assert salts(again) == before
        with again.reads() as s:
            lists = emergency.emergency_lists(s, site=again.site, now=NOW)
        assert {d: lists[d].cards for d in doors} == {
            d: (emergency_hash(before[d], EWA, EMERGENCY_KDF),) for d in doors
        }
    finally:
        again.close()


@pytest.mark.slow  # some 300 scrypt hashes: seconds of CPU
def test_a_door_keeps_the_newest_fifty_staff_cards(ctx, clock):
    """Unit: 55 staff cards, one list of 50 (the newest), which fits in a payload."""
    with ctx.writes() as s, s.begin():
        staff = members.create_member(s, name="Ewa Nowak", category="staff")
        uids = [f"0A{i:06X}" for i in range(55)]
        for i, uid in enumerate(uids):
            card = members.add_card(s, card_key="k" * 32, member_id=staff.id, uid=uid)
            card.created_at = NOW + timedelta(minutes=i)
    with ctx.reads() as s:
        lists = emergency.emergency_lists(s, site=ctx.site, now=clock.now)
    door = lists["reader-sala-a"]
    assert door.left_out == 5
    assert set(door.cards) == {emergency_hash(door.salt, uid, EMERGENCY_KDF) for uid in uids[5:]}
    assert len(encode(door.message(clock.now))) <= 4096


def test_the_door_path_warns_when_cards_are_left_out(hub, caplog):
    ctx, clock, broker, ids, doors = hub
    with ctx.writes() as s, s.begin():
        for i in range(emergency.MAX_CARDS):
            members.add_card(s, card_key=KEY, member_id=ids["ewa"], uid=f"0B{i:06X}")
    lists = Lists(broker.url)
    try:
        with caplog.at_level(logging.WARNING, logger="server.adapters.door_state"):
            latest = lists.wait(
                lambda got: all(d in got and len(got[d].cards) == 50 for d in doors)
            )
            wait_for(lambda: "1 left out" in caplog.text)
        salt = latest["reader-main"].salt
        oldest = emergency_hash(salt, EWA, latest["reader-main"].kdf)
        assert oldest not in latest["reader-main"].cards
    finally:
        lists.client.stop()


def test_a_staff_tap_is_answered_before_its_hashes_are_computed(ctx, clock, monkeypatch):
    """Unit: the hashes (scrypt, ~10 ms a door) are computed off the tap's decision path,
    after the answer."""
    started, go_on = threading.Event(), threading.Event()
    real = emergency.remember_tap

    def held_back(writes, *, uid_hash, uid):  # type: ignore[no-untyped-def]
        started.set()
        assert go_on.wait(5)
        return real(writes, uid_hash=uid_hash, uid=uid)

    monkeypatch.setattr(emergency, "remember_tap", held_back)
    with ctx.writes() as s, s.begin():
        ewa = members.create_member(s, name="Ewa Nowak", category="staff")
        s.add(models.Card(member_id=ewa.id, uid_hash=card_hash(ctx.card_key, OLD)))
        bump(s)
    answers: list = []
    ctx.access.handle_tap("reader-main", Tap(id=new_id(), ts=clock.now, card=OLD), answers.append)
    assert [a.reason for a in answers] == ["staff"]
    assert started.wait(5)
    with ctx.reads() as s:
        assert s.scalars(select(models.EmergencyHash)).all() == []
    go_on.set()
    assert ctx.access.after.wait_idle(10)
    with ctx.reads() as s:
        assert len(s.scalars(select(models.EmergencyHash)).all()) == len(ctx.site.door_devices())


def test_closing_drops_the_hashes_queued_and_writes_nothing_after(ctx, clock, monkeypatch):
    """Unit: the server's close waits for the hash under way, drops those queued (each
    card's next tap asks again) and takes no more, so nothing is written once the
    database is closed."""
    started, go_on = threading.Event(), threading.Event()
    done: list[str] = []
    real = emergency.remember_tap

    def held_back(writes, *, uid_hash, uid):  # type: ignore[no-untyped-def]
        started.set()
        assert go_on.wait(5)
        done.append(uid)
        return real(writes, uid_hash=uid_hash, uid=uid)

    monkeypatch.setattr(emergency, "remember_tap", held_back)
    after = ctx.access.after
    after.staff_tapped("hash-1", "04000001", version=("e", 1))
    assert started.wait(5)
    after.staff_tapped("hash-2", "04000002", version=("e", 1))  # queued behind the first
    stopping = threading.Thread(target=after.stop)
    stopping.start()
    wait_for(lambda: after._stopped, what="the stop")
    after.staff_tapped("hash-3", "04000003", version=("e", 1))  # refused
    go_on.set()
    stopping.join(IDLE_S / 2)  # the thread ends once stopped, not after idling
    assert not stopping.is_alive()
    assert done == ["04000001"]
    assert after.wait_idle(1)
