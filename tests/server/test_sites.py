"""Several sites on one database (docs/architecture.md, "Several sites"): PiasecznoHUB and
KonstancinHUB, each its own ServerContext, as two servers of one deployment are. Each
site's jobs touch only its own rooms and devices; a door admits the site's own plans'
holders, and another site's plan's holders only where that plan names it a partner; an
id another site holds stops a server at its start."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from support import factories
from support.app import client_on
from support.clock import EPOCH, Clock
from support.database import ON_POSTGRES, migrated_database
from support.waiting import wait_for

from protocol.cards import card_hash
from protocol.decide import decide
from protocol.messages import Reason
from server.access.doormodes import effective_modes
from server.access.reconcile import arrived_in_time
from server.adapters.live_relay import LiveRelay
from server.adapters.scheduler import Scheduler
from server.context import ServerContext
from server.db import models
from server.db.inventory import InventoryConflict, sync_site
from server.db.meta import bump
from server.errors import Conflict, NotFound
from server.live.kinds import RoomEvent
from server.notify import links
from server.people import gdpr, members
from server.settings import Settings
from server.site import SiteConfig, load_site
from server.waitlist import entries, freed, offers
from spacehub.cli import main

pytestmark = pytest.mark.unit

SITES = Path("firmware_configs/sites")
PIASECZNO = load_site(SITES / "piaseczno.toml")
KONSTANCIN = load_site(SITES / "konstancin.toml")
CARD_KEY = "k" * 32
ADMIN_TOKEN = "admin-token-0123456789abcdef"
HOUR = timedelta(hours=1)
UID = "04A1B2C3"


def with_partners(site: SiteConfig, plan_id: str, partners: list[str]) -> SiteConfig:
    """The site file with `partners` given to its plan `plan_id`, validated again."""
    data = site.model_dump()
    for plan in data["plans"]:
        if plan["id"] == plan_id:
            plan["partners"] = partners
    return SiteConfig.model_validate(data)


class Network:
    """Servers of sites on one database and one clock (EPOCH: Monday, 10:00 in Warsaw,
    when both hubs are open)."""

    def __init__(self, tmp_path: Path) -> None:
        self.clock = Clock(EPOCH)
        self.url = migrated_database(tmp_path / "network.db")
        self.contexts: list[ServerContext] = []

    def start(self, site: SiteConfig) -> ServerContext:
        settings = Settings(
            site_config=SITES / f"{site.id}.toml",
            database_url=self.url,
            admin_token=ADMIN_TOKEN,
            card_key=CARD_KEY,
        )
        ctx = ServerContext.create(settings, clock=self.clock, site=site)
        self.contexts.append(ctx)
        return ctx

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    net = Network(tmp_path)
    try:
        yield net
    finally:
        net.close()


def member_with_card(ctx: ServerContext, name: str, uid: str = UID) -> int:
    """A member with a card, of a category that never walks in (so a plan decides)."""
    with ctx.writes() as s, s.begin():
        member = factories.member(s, name, "business")
        factories.card(s, member.id, uid, CARD_KEY)
        return member.id


def holder(ctx: ServerContext, plan_id: str) -> None:
    """A member with a card (UID) and a membership of `ctx`'s site's plan `plan_id`,
    running from an hour ago for a month."""
    member_id = member_with_card(ctx, "Ewa Nowak")
    now = ctx.clock()
    with ctx.writes() as s, s.begin():
        factories.membership(
            s, member_id, plan_id, now - HOUR, now + 720 * HOUR, site_id=ctx.site.id
        )
        bump(s)  # as every write that can change a decision does


def tap(ctx: ServerContext, door: str, uid: str = UID) -> Reason:
    """The reason `decide` gives a tap of `uid` at the door controller `door` of `ctx`'s
    site, from the site's policy snapshot."""
    now = ctx.clock()
    with ctx.reads() as s:
        snapshot = ctx.policy.get(s, now)
    return decide(snapshot, door, card_hash(CARD_KEY, uid), now).reason


# -- the periodic jobs -----------------------------------------------------------------


class BothSites:
    """A member booked at both sites an hour from now, and the clock moved past both
    bookings' 15 minutes' grace."""

    def __init__(self, network: Network) -> None:
        self.piaseczno, self.konstancin = network.start(PIASECZNO), network.start(KONSTANCIN)
        self.anna = member_with_card(self.piaseczno, "Anna Kowalska")
        self.start, now = network.clock() + HOUR, network.clock()
        with self.piaseczno.writes() as s, s.begin():
            self.here = factories.booking(s, PIASECZNO, self.anna, self.start, now=now).id
            self.there = factories.booking(
                s, KONSTANCIN, self.anna, self.start, now=now, room_id="kon-sala"
            ).id
        network.clock.advance(hours=1, minutes=16)


def test_each_sites_sweep_releases_only_its_own_no_shows(network: Network) -> None:
    both = BothSites(network)
    piaseczno, konstancin, here, there = both.piaseczno, both.konstancin, both.here, both.there
    assert Scheduler(piaseczno).run_once().released == [here]
    with konstancin.reads() as s:
        assert s.get_one(models.Booking, there).status == "booked"
        assert s.scalar(select(func.count()).select_from(models.NoShow)) == 1
    assert Scheduler(konstancin).run_once().released == [there]
    assert Scheduler(piaseczno).run_once().released == []


def test_an_entry_in_time_at_one_sites_entrance_removes_only_that_sites_strike(
    network: Network,
) -> None:
    both = BothSites(network)
    piaseczno, here, there = both.piaseczno, both.here, both.there
    assert Scheduler(piaseczno).run_once().released == [here]
    assert Scheduler(both.konstancin).run_once().released == [there]

    entrance = next(r.id for r in PIASECZNO.rooms if r.kind == "entrance")
    with piaseczno.writes() as s, s.begin():
        changes = arrived_in_time(
            s,
            site=PIASECZNO,
            member_id=both.anna,
            room_id=entrance,
            at=both.start + timedelta(minutes=5),
            now=network.clock(),
        )
    assert [(c.booking_id, c.change) for c in changes] == [(here, "strike_removed")]
    with piaseczno.reads() as s:
        strikes = dict(s.execute(select(models.NoShow.booking_id, models.NoShow.removed_at)).all())
    assert strikes[here] is not None and strikes[there] is None


def test_each_site_reminds_only_of_its_own_rooms_bookings(network: Network) -> None:
    piaseczno, konstancin = network.start(PIASECZNO), network.start(KONSTANCIN)
    anna = member_with_card(piaseczno, "Anna Kowalska")
    start, booked = network.clock() + HOUR, network.clock() - 24 * HOUR
    with piaseczno.writes() as s, s.begin():
        here = factories.booking(s, PIASECZNO, anna, start, now=booked).id
        there = factories.booking(s, KONSTANCIN, anna, start, now=booked, room_id="kon-sala").id

    def reminded() -> list[int]:
        with piaseczno.reads() as s:
            B = models.Booking
            return list(s.scalars(select(B.id).where(B.start_reminded_at.is_not(None))))

    Scheduler(konstancin).run_once()
    assert reminded() == [there]
    Scheduler(piaseczno).run_once()
    assert sorted(reminded()) == sorted([here, there])


def test_each_sites_purge_deletes_only_its_own_devices_events(network: Network) -> None:
    piaseczno, konstancin = network.start(PIASECZNO), network.start(KONSTANCIN)
    old = network.clock() - timedelta(days=100)
    with piaseczno.writes() as s, s.begin():
        for device in ("reader-main", "reader-kon-main"):
            s.add(models.AccessEvent(device_id=device, event_id="e1", received=old, ts=old))

    def readers() -> list[str]:
        with konstancin.reads() as s:
            return sorted(s.scalars(select(models.AccessEvent.device_id)))

    Scheduler(piaseczno).run_once()
    assert readers() == ["reader-kon-main"]
    Scheduler(konstancin).run_once()
    assert readers() == []


# -- the waitlist ----------------------------------------------------------------------


def wait_for_a_meeting_room(ctx: ServerContext, member_id: int) -> int:
    """`member_id` joins `ctx`'s site's waitlist for any meeting room, from 12:00 to 13:00
    (in Warsaw); the entry's id."""
    now = ctx.clock()
    with ctx.writes() as s, s.begin():
        entry = entries.join(
            s,
            site=ctx.site,
            member_id=member_id,
            kind="meeting",
            start=now + 2 * HOUR,
            end=now + 3 * HOUR,
            now=now,
        )
        return entry.id


def free(ctx: ServerContext, room_id: str) -> int | None:
    """`ctx`'s site frees its room from 12:00 to 13:00: the waitlist entry offered it."""
    now = ctx.clock()
    with ctx.writes() as s, s.begin():
        offer = offers.offer_freed_slot(
            s, site=ctx.site, room_id=room_id, start=now + 2 * HOUR, end=now + 3 * HOUR, now=now
        )
        return None if offer is None else offer.waitlist_id


def test_an_entry_for_any_room_of_a_kind_is_its_own_sites_only(network: Network) -> None:
    piaseczno, konstancin = network.start(PIASECZNO), network.start(KONSTANCIN)
    anna = member_with_card(piaseczno, "Anna Kowalska")
    theirs = wait_for_a_meeting_room(konstancin, anna)

    assert free(piaseczno, "sala-a") is None  # a meeting room, of another site
    assert free(konstancin, "kon-sala") == theirs
    with piaseczno.writes() as s, s.begin():
        assert entries.list_entries(s, site_id="piaseczno") == []
        with pytest.raises(NotFound):
            entries.get_entry(s, entry_id=theirs, site_id="piaseczno")
        with pytest.raises(NotFound):
            entries.cancel_entry(s, site=PIASECZNO, entry_id=theirs, now=network.clock())
    with konstancin.reads() as s:
        assert [e.id for e in entries.list_entries(s, site_id="konstancin")] == [theirs]
        assert s.get_one(models.WaitlistEntry, theirs).status == "offered"
        assert [o.status for o in offers.list_offers(s, site_id="konstancin")] == ["offered"]


def test_a_member_may_wait_for_a_kind_at_two_sites_at_once(network: Network) -> None:
    piaseczno, konstancin = network.start(PIASECZNO), network.start(KONSTANCIN)
    anna = member_with_card(piaseczno, "Anna Kowalska")
    here = wait_for_a_meeting_room(piaseczno, anna)
    there = wait_for_a_meeting_room(konstancin, anna)
    with pytest.raises(Conflict, match="already waits for that time"):
        wait_for_a_meeting_room(piaseczno, anna)

    with piaseczno.reads() as s:
        sites = {e.id: e.site_id for e in entries.list_entries(s, member_id=anna)}
    assert sites == {here: "piaseczno", there: "konstancin"}
    assert free(piaseczno, "sala-a") == here
    assert free(konstancin, "kon-sala") == there


# -- plans and partners at the doors ---------------------------------------------------


def test_a_plan_admits_at_a_partner_site_only_when_it_names_that_site(network: Network) -> None:
    piaseczno, konstancin = network.start(PIASECZNO), network.start(KONSTANCIN)
    holder(piaseczno, "coworking")
    assert tap(piaseczno, "reader-cowork") == Reason.MEMBERSHIP
    assert tap(konstancin, "reader-kon-cowork") == Reason.NO_MEMBERSHIP

    partnered = with_partners(PIASECZNO, "coworking", ["konstancin"])
    with piaseczno.writes() as s, s.begin():  # PiasecznoHUB restarted on its new file
        sync_site(s, partnered)
    assert tap(konstancin, "reader-kon-cowork") == Reason.MEMBERSHIP
    assert tap(konstancin, "reader-kon-sala") == Reason.NO_ACCESS  # Konstancin's plan's doors
    network.clock.advance(hours=9)  # 19:00 in Warsaw: Konstancin's hours, not Piaseczno's
    assert tap(piaseczno, "reader-cowork") == Reason.MEMBERSHIP
    assert tap(konstancin, "reader-kon-cowork") == Reason.OUTSIDE_HOURS


def test_a_partner_without_a_plan_of_that_id_grants_nothing(network: Network) -> None:
    partnered = with_partners(PIASECZNO, "coworking-24h", ["konstancin"])
    piaseczno, konstancin = network.start(partnered), network.start(KONSTANCIN)
    holder(piaseczno, "coworking-24h")
    assert tap(piaseczno, "reader-cowork") == Reason.MEMBERSHIP
    assert tap(konstancin, "reader-kon-cowork") == Reason.NO_MEMBERSHIP


def test_a_konstancin_member_is_refused_at_piaseczno(network: Network) -> None:
    piaseczno, konstancin = network.start(PIASECZNO), network.start(KONSTANCIN)
    holder(konstancin, "coworking")
    assert tap(konstancin, "reader-kon-cowork") == Reason.MEMBERSHIP
    assert tap(piaseczno, "reader-cowork") == Reason.NO_MEMBERSHIP
    assert tap(piaseczno, "reader-main") == Reason.NO_MEMBERSHIP


def test_a_booking_at_one_site_opens_only_that_sites_doors(network: Network) -> None:
    piaseczno, konstancin = network.start(PIASECZNO), network.start(KONSTANCIN)
    jan = member_with_card(konstancin, "Jan Wiśniewski")
    with konstancin.writes() as s, s.begin():
        factories.booking(
            s, KONSTANCIN, jan, network.clock(), now=network.clock(), room_id="kon-sala"
        )
    assert tap(konstancin, "reader-kon-main") == Reason.BOOKING
    assert tap(piaseczno, "reader-main") == Reason.NO_MEMBERSHIP


def test_an_open_workshop_opens_only_its_own_sites_doors(network: Network) -> None:
    network.start(PIASECZNO)
    konstancin = network.start(KONSTANCIN)
    jan = member_with_card(konstancin, "Jan Wiśniewski")
    now = network.clock()
    with konstancin.writes() as s, s.begin():
        factories.booking(s, KONSTANCIN, jan, now, now=now, room_id="kon-sala", public=True)
    with konstancin.reads() as s:
        there = effective_modes(s, KONSTANCIN, now)
        here = effective_modes(s, PIASECZNO, now)
    assert (there["reader-kon-main"], there["reader-kon-sala"]) == ("unlocked", "unlocked")
    assert set(here.values()) == {"normal"}


def test_memberships_made_at_a_sites_server_are_that_sites(network: Network) -> None:
    piaseczno, konstancin = network.start(PIASECZNO), network.start(KONSTANCIN)
    ewa = member_with_card(piaseczno, "Ewa Nowak")
    body = {
        "member_id": ewa,
        "plan": "coworking",
        "valid_from": "2026-03-01T00:00:00Z",
        "valid_until": "2026-04-01T00:00:00Z",
    }
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with client_on(konstancin) as client:
        made = client.post("/api/memberships", json=body, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["site"] == "konstancin"
    assert tap(konstancin, "reader-kon-cowork") == Reason.MEMBERSHIP
    assert tap(piaseczno, "reader-cowork") == Reason.NO_MEMBERSHIP

    with piaseczno.writes() as s, s.begin(), pytest.raises(members.Refusal, match="konstancin"):
        members.update_membership(  # Konstancin's membership is changed at Konstancin
            s,
            site=PIASECZNO,
            membership_id=made.json()["id"],
            plan="coworking",
            valid_from=network.clock(),
            valid_until=network.clock() + HOUR,
        )
    with piaseczno.writes() as s, s.begin(), pytest.raises(members.Refusal, match="konstancin"):
        members.delete_membership(s, site=PIASECZNO, membership_id=made.json()["id"])
    assert tap(konstancin, "reader-kon-cowork") == Reason.MEMBERSHIP  # still there


def test_a_plan_may_not_name_its_own_site_or_a_bad_id_as_a_partner() -> None:
    with pytest.raises(ValidationError, match="its own site"):
        with_partners(PIASECZNO, "coworking", ["piaseczno"])
    with pytest.raises(ValidationError, match="a-z0-9"):
        with_partners(PIASECZNO, "coworking", ["Konstancin HUB"])
    with pytest.raises(ValidationError, match="twice"):
        with_partners(PIASECZNO, "coworking", ["konstancin", "konstancin"])


# -- one inventory -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "old", "new"),
    [
        ("room", '"kon-sala"', '"sala-a"'),  # the room, its devices' room, its door
        ("door", 'door = "kon-sala"', 'door = "sala-a"'),
        ("device", 'id = "reader-kon-sala"', 'id = "reader-sala-a"'),
    ],
)
def test_a_site_claiming_another_sites_id_does_not_start(
    network: Network, tmp_path: Path, what: str, old: str, new: str
) -> None:
    network.start(PIASECZNO)
    text = (SITES / "konstancin.toml").read_text(encoding="utf-8")
    assert old in text
    claiming = tmp_path / "konstancin.toml"
    claiming.write_text(text.replace(old, new), encoding="utf-8")
    site = load_site(claiming)

    taken = new.split('"')[1]
    with pytest.raises(InventoryConflict, match=f"{what} id '{taken}' is site 'piaseczno'"):
        network.start(site)
    with network.contexts[0].reads() as s:  # nothing of Konstancin written
        assert s.get(models.Site, "konstancin") is None
        assert s.get(models.Device, "reader-kon-main") is None


# -- replicas of several sites (PostgreSQL) ----------------------------------------------


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's advisory locks and LISTEN/NOTIFY")
def test_each_site_has_its_own_jobs_leader_and_live_channel(network: Network) -> None:
    piaseczno, piaseczno_2 = network.start(PIASECZNO), network.start(PIASECZNO)
    konstancin, konstancin_2 = network.start(KONSTANCIN), network.start(KONSTANCIN)
    assert piaseczno.lead.held() and konstancin.lead.held()  # a leader each
    assert not piaseczno_2.lead.held() and not konstancin_2.lead.held()

    relays = [LiveRelay(ctx) for ctx in (piaseczno, piaseczno_2, konstancin, konstancin_2)]
    heard: dict[int, list[str]] = {1: [], 3: []}  # the rooms the second replicas heard of
    for n, rooms in heard.items():
        relays[n].bus.publish_relayed = lambda kind, data, rooms=rooms: rooms.append(data["id"])
    for relay in relays:
        relay.start()
    try:
        wait_for(lambda: all(r.listening.is_set() for r in relays), 10, "the relays listening")
        piaseczno.events.publish(room_event("sala-a"))
        wait_for(lambda: heard[1] == ["sala-a"], 10, "Piaseczno's event at its other replica")
        konstancin.events.publish(room_event("kon-sala"))
        wait_for(lambda: "kon-sala" in heard[3], 10, "Konstancin's event at its other replica")
        # Piaseczno's was sent first: had it reached Konstancin's replica, it would be there
        assert heard[3] == ["kon-sala"]
    finally:
        for relay in relays:
            relay.stop()


def room_event(room_id: str) -> RoomEvent:
    return RoomEvent(id=room_id, occupied=True, people=None, last_motion=None, over_capacity=False)


def test_spacehub_server_says_which_id_another_site_holds(
    network: Network,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    network.start(PIASECZNO)
    claiming = tmp_path / "konstancin.toml"
    text = (SITES / "konstancin.toml").read_text(encoding="utf-8")
    claiming.write_text(text.replace('id = "reader-kon-sala"', 'id = "reader-sala-a"'))
    monkeypatch.setenv("SPACEHUB_SITE_CONFIG", str(claiming))
    monkeypatch.setenv("SPACEHUB_DATABASE_URL", network.url)
    monkeypatch.setenv("SPACEHUB_CARD_KEY", CARD_KEY)
    monkeypatch.setenv("SPACEHUB_ADMIN_TOKEN", ADMIN_TOKEN)
    assert main(["server"]) == 2  # before it listens
    assert capsys.readouterr().err.strip() == (
        "spacehub server: site 'konstancin': the device id 'reader-sala-a' is site "
        "'piaseczno''s in the database (room, door and device ids are unique in a "
        "deployment: rename it in one of the site files)"
    )


def test_a_booking_is_cancelled_at_its_own_sites_server_only(network: Network) -> None:
    """By a mailed cancel link (the card key, and so the links' key, is the network's) and
    by the waitlist's `freed`; erasing the member at one site cancels the other's too."""
    piaseczno, konstancin = network.start(PIASECZNO), network.start(KONSTANCIN)
    anna = member_with_card(piaseczno, "Anna Kowalska")
    start, now = network.clock() + HOUR, network.clock()
    with piaseczno.writes() as s, s.begin():
        here = factories.booking(s, PIASECZNO, anna, start, now=now).id
        there = factories.booking(s, KONSTANCIN, anna, start, now=now, room_id="kon-sala").id
    token = links.sign(links.link_key(CARD_KEY), purpose="cancel", subject=there, expires=start)
    with client_on(piaseczno) as client:
        assert client.post("/m/cancel", data={"token": token}).status_code == 400
    with piaseczno.writes() as s, s.begin(), pytest.raises(NotFound):
        freed.cancel_booking(s, site=PIASECZNO, booking_id=there, now=now, by="staff")
    with konstancin.reads() as s:
        assert s.get_one(models.Booking, there).status == "booked"

    with piaseczno.writes() as s, s.begin():
        assert gdpr.erase(s, site=PIASECZNO, member_id=anna, now=now)
    with konstancin.reads() as s:
        statuses = {b.id: b.status for b in s.scalars(select(models.Booking))}
    assert statuses == {here: "cancelled", there: "cancelled"}
