"""The demo site and what `spacehub demo` puts in a new database: five members with their
cards and plans (one suspended), a receptionist's account and, with visitors, a few
bookings of today."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from protocol.files import write_private
from server.bookings.lifecycle import check_in
from server.bookings.store import insert_booking
from server.context import ServerContext
from server.people import accounts, members
from server.site import SiteConfig, load_site

ROOT = Path(__file__).resolve().parent.parent
SITE_CONFIG = ROOT / "firmware_configs" / "sites" / "piaseczno.toml"
STAFF_EMAIL = "recepcja@piaseczno.example"
STAFF_PASSWORD_FILE = "staff.password"  # beside the database: the same across restarts


@dataclass(frozen=True)
class DemoMember:
    name: str
    category: str
    card: str
    plan: str | None
    shows: str  # what the card does at the doors
    suspended: bool = False


DEMO_MEMBERS = [
    DemoMember("Ewa Nowak", "staff", "04A1B2C3", None, "staff: every door, any time"),
    DemoMember("Anna Kowalska", "business", "04B2C3D4", "coworking", "coworking, opening hours"),
    DemoMember("Piotr Wiśniewski", "resident", "04C3D4E5", "coworking-24h", "coworking, any time"),
    DemoMember("Olena Szewczenko", "ngo", "04D4E5F6", None, "no membership: refused"),
    DemoMember("Jan Zieliński", "resident", "04E5F6A7", "coworking", "suspended: refused", True),
]


def demo_email(demo: DemoMember) -> str:
    """A demo member's e-mail address: their first name at example.org."""
    return demo.name.split()[0].lower() + "@example.org"


def demo_site(no_show_grace: float | None) -> SiteConfig:
    """The demo site, with `--no-show-grace` applied."""
    site = load_site(SITE_CONFIG)
    if no_show_grace is None:
        return site
    access = site.access.model_copy(update={"no_show_grace": no_show_grace})
    return site.model_copy(update={"access": access})


def seed(ctx: ServerContext, *, traffic: bool) -> bool:
    """The demo members, their cards and plans, once per database; with `traffic`, a few
    bookings of today as well. Whether it seeded (False: the database had members)."""
    now = ctx.clock()
    with ctx.writes() as session, session.begin():
        if members.list_members(session, limit=1):
            return False
        seed_members(ctx, session, now)
        if traffic:
            seed_bookings(ctx, session, now)
    return True


def staff_password(data_dir: Path) -> str:
    """The demo receptionist's password: made once, kept in the data folder."""
    path = data_dir / STAFF_PASSWORD_FILE
    if not path.exists():
        write_private(path, (secrets.token_urlsafe(12) + "\n").encode())
    return path.read_text().strip()


def seed_staff(ctx: ServerContext, *, password: str) -> None:
    """The demo receptionist's account (a staff user), with this password."""
    now = ctx.clock()
    with ctx.writes() as session, session.begin():
        user = accounts.find_by_email(session, STAFF_EMAIL)
        if user is None:
            accounts.create_user(
                session,
                email=STAFF_EMAIL,
                name="Recepcja PiasecznoHUB",
                role="staff",
                password=password,
                now=now,
            )
        elif not accounts.verify_password(user, password):
            accounts.update_user(session, user_id=user.id, changes={"password": password}, now=now)


def seed_member_accounts(ctx: ServerContext) -> list[str]:
    """A member account (no password: they sign in by e-mailed link) for each member with
    an e-mail address and no account yet; their addresses. Run at every start, so a
    database of an earlier demo gets them too."""
    now = ctx.clock()
    made = []
    with ctx.writes() as session, session.begin():
        for member in members.list_members(session, limit=1000):
            if not member.email or accounts.find_by_email(session, member.email) is not None:
                continue
            accounts.create_user(session, email=member.email, name=member.name, role="member",
                                 member_id=member.id, now=now)  # fmt: skip
            made.append(member.email)
    return made


def seed_bookings(ctx: ServerContext, session: Session, now: datetime) -> None:
    """Bookings that make the day visible: one about to start that nobody will come to
    (released after the no-show grace), one in progress, one this evening."""
    ids = {m.name: m.id for m in members.list_members(session)}
    soon = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for room, holder, start, hours, title in [
        ("sala-a", "Olena Szewczenko", soon, 1, "Spotkanie fundacji"),
        ("sala-b", "Anna Kowalska", soon - timedelta(minutes=30), 1, "Warsztaty firmowe"),
        ("sala-a", "Piotr Wiśniewski", soon + timedelta(hours=3), 2, "Klub planszówek"),
    ]:
        booking = insert_booking(
            session,
            site=ctx.site,
            room_id=room,
            member_id=ids[holder],
            start=start,
            end=start + timedelta(hours=hours),
            now=now,
            title=title,
        )
        if start < now:  # already under way: its holder came in before the demo started
            check_in(session, booking_id=booking.id, now=now, by="tap")


def seed_members(ctx: ServerContext, session: Session, now: datetime) -> None:
    """The demo members with their cards, plans and (for one) a suspension."""
    for demo in DEMO_MEMBERS:
        email = demo_email(demo)
        member = members.create_member(
            session, name=demo.name, category=demo.category, email=email, site=ctx.site
        )
        members.add_card(session, card_key=ctx.card_key, member_id=member.id, uid=demo.card)
        if demo.plan:
            members.add_membership(
                session,
                site=ctx.site,
                member_id=member.id,
                plan=demo.plan,
                valid_from=now - timedelta(days=30),
                valid_until=now + timedelta(days=365),
            )
        if demo.suspended:
            members.update_member(
                session,
                member_id=member.id,
                changes={"suspended_until": now + timedelta(days=7)},
            )
