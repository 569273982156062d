"""What a server test sets up before it tests anything: members, cards, memberships and
bookings in its database or through the HTTP API, and the settings of a server that runs
on a broker.

In a transaction the test holds (the rows are flushed, so their ids are known):

    with ctx.writes() as s, s.begin():
        ewa = factories.member(s, "Ewa Nowak", "staff")
        factories.card(s, ewa.id, "04A1B2C3", KEY)
        factories.booking(s, ctx.site, ewa.id, START, now=START - DAY)

or each in a transaction of its own: `add_member(ctx)`, `add_booking(ctx, member_id,
start)`, and `row(ctx, models.Booking, booking_id)` to read one back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

from protocol.cards import card_hash
from protocol.messages import new_id
from server.bookings.store import insert_booking
from server.context import ServerContext
from server.db import models
from server.settings import Settings
from server.site import SiteConfig
from support.database import migrated_database

if TYPE_CHECKING:  # importing it warns unless tests/server/conftest.py filters the warning
    from fastapi.testclient import TestClient

HOUR = timedelta(hours=1)
Headers = dict[str, str]
Row = TypeVar("Row", bound=models.Base)


# -- rows, in the caller's transaction ---------------------------------------------------


def member(
    s: Session, name: str = "Anna Kowalska", category: str = "resident", **fields: Any
) -> models.Member:
    """A new member (any other column as a keyword, e.g. `suspended_until`)."""
    row = models.Member(name=name, category=category, **fields)
    s.add(row)
    s.flush()
    return row


def card(s: Session, member_id: int, uid: str, card_key: str, *, active: bool = True) -> None:
    """A card of `member_id`, stored as the server stores one: the keyed hash of its UID."""
    s.add(models.Card(member_id=member_id, uid_hash=card_hash(card_key, uid), active=active))


def membership(
    s: Session,
    member_id: int,
    plan: str,
    valid_from: datetime,
    valid_until: datetime,
    *,
    site_id: str = "piaseczno",
) -> None:
    """A plan of `site_id` (the demo site's by default) of `member_id`, valid in
    [valid_from, valid_until)."""
    s.add(
        models.Membership(
            member_id=member_id,
            site_id=site_id,
            plan=plan,
            valid_from=valid_from,
            valid_until=valid_until,
        )
    )


def booking(
    s: Session,
    site: SiteConfig,
    member_id: int,
    start: datetime,
    end: datetime | None = None,
    *,
    now: datetime,
    room_id: str = "sala-a",
    **fields: Any,
) -> models.Booking:
    """A booking through the store (the room locked, nothing may overlap it; no booking
    rules), an hour long unless `end` is given; `title`, `status`, `public`... as keywords."""
    return insert_booking(
        s,
        site=site,
        room_id=room_id,
        member_id=member_id,
        start=start,
        end=end or start + HOUR,
        now=now,
        **fields,
    )


def booking_row(
    s: Session,
    member_id: int,
    start: datetime,
    end: datetime | None = None,
    *,
    room_id: str = "sala-a",
    **fields: Any,
) -> models.Booking:
    """A booking written as a bare row, past the store's checks: for a state the domain
    could only reach over time (a completed booking, one left overlapping)."""
    row = models.Booking(
        room_id=room_id, member_id=member_id, start=start, end=end or start + HOUR, **fields
    )
    s.add(row)
    s.flush()
    return row


# -- each in a transaction of its own ----------------------------------------------------


def add_member(
    ctx: ServerContext, name: str = "Anna Kowalska", category: str = "resident", **fields: Any
) -> int:
    """The id of a new member."""
    with ctx.writes() as s, s.begin():
        return member(s, name, category, **fields).id


def add_booking(
    ctx: ServerContext,
    member_id: int,
    start: datetime,
    end: datetime | None = None,
    *,
    now: datetime | None = None,
    **fields: Any,
) -> int:
    """The id of a new booking through the store, made at `now` (the context's clock)."""
    with ctx.writes() as s, s.begin():
        made = now or ctx.clock()
        return booking(s, ctx.site, member_id, start, end, now=made, **fields).id


def row(ctx: ServerContext, model: type[Row], key: Any) -> Row:
    """The row of `model` with primary key `key`, which must exist."""
    with ctx.reads() as s:
        found = s.get(model, key)
        assert found is not None, f"no {model.__name__} {key!r}"
        return found


# -- through the HTTP API ----------------------------------------------------------------


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def api_member(client: TestClient, headers: Headers, **body: Any) -> dict[str, Any]:
    """POST /api/members (Anna Kowalska, a resident, unless `body` says otherwise)."""
    fields = {"name": "Anna Kowalska", "category": "resident"} | body
    return _created(client.post("/api/members", json=fields, headers=headers))


def api_card(client: TestClient, headers: Headers, member_id: int, uid: str) -> dict[str, Any]:
    """POST /api/members/{member_id}/cards."""
    return _created(
        client.post(f"/api/members/{member_id}/cards", json={"uid": uid}, headers=headers)
    )


def api_booking(
    client: TestClient,
    headers: Headers,
    member_id: int,
    start: datetime,
    end: datetime | None = None,
    **body: Any,
) -> dict[str, Any]:
    """POST /api/bookings in sala-a (unless `room_id` says otherwise), an hour long unless
    `end` is given."""
    fields = {
        "room_id": "sala-a",
        "member_id": member_id,
        "start": start.isoformat(),
        "end": (end or start + HOUR).isoformat(),
    } | body
    return _created(client.post("/api/bookings", json=fields, headers=headers))


# -- a server on a broker ----------------------------------------------------------------


def live_settings(
    tmp_path: Path, mqtt_url: str, card_key: str, *, prefix: str = "t", **fields: Any
) -> Settings:
    """A server's settings on `mqtt_url` with a database of its own in `tmp_path` and an
    instance name of its own (`prefix` and six random letters or digits)."""
    instance = prefix + new_id()[:6].lower().replace("-", "x").replace("_", "x")
    return Settings(
        database_url=migrated_database(tmp_path / "spacehub.db"),
        mqtt_url=mqtt_url,
        card_key=card_key,
        instance=instance,
        **fields,
    )
