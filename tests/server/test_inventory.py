"""The database's inventory follows the site file: new and renamed rooms, doors and devices
are written, rows that left the file are kept for the events that name them, a door keeps
its mode, and a start on an unchanged file writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from server.context import ServerContext
from server.db import models
from server.db.inventory import sync_site
from server.site import SiteConfig

pytestmark = pytest.mark.unit


@contextmanager
def writes_counted(ctx: ServerContext) -> Iterator[list[str]]:
    """The INSERT, UPDATE and DELETE statements run on `ctx`'s engine meanwhile."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    event.listen(ctx.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(ctx.engine, "before_cursor_execute", count)


def synced(ctx: ServerContext, site: SiteConfig) -> None:
    with ctx.writes() as session, session.begin():
        sync_site(session, site)


def test_an_unchanged_file_writes_nothing(ctx: ServerContext) -> None:
    with writes_counted(ctx) as writes:
        synced(ctx, ctx.site)
    assert writes == []


def test_changes_in_the_file_are_written_and_rows_that_left_it_are_kept(
    ctx: ServerContext,
) -> None:
    with ctx.writes() as session, session.begin():
        session.get_one(models.Door, "sala-a").mode = "locked"
    room = ctx.site.rooms[0]
    renamed = room.model_copy(update={"name": "Sala po remoncie", "capacity": 99})
    kept = [d for d in ctx.site.devices if d.id != "pir-cowork"]
    added = ctx.site.devices[0].model_copy(update={"id": "reader-new", "door": "new-door"})
    site = ctx.site.model_copy(
        update={"rooms": [renamed, *ctx.site.rooms[1:]], "devices": [*kept, added]}
    )

    with writes_counted(ctx) as writes:
        synced(ctx, site)

    assert len(writes) == 3  # the room updated, the door and the device inserted
    with ctx.reads() as session:
        row = session.get_one(models.Room, room.id)
        assert (row.name, row.capacity) == ("Sala po remoncie", 99)
        assert session.get_one(models.Device, "reader-new").door_id == "new-door"
        assert session.get_one(models.Door, "new-door").mode == "normal"
        assert session.get_one(models.Door, "sala-a").mode == "locked"
        assert session.get(models.Device, "pir-cowork") is not None  # left the file, kept
        assert session.scalar(select(models.Site.name)) == ctx.site.site.name
