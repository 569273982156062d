"""Booking figures: release lag after the grace with 100,000 and 1,000,000 bookings in
the database; availability of one room over a week at 1,000 rooms x 1,000,000
bookings; the policy snapshot's size and build time for 10,000 members, 500 rooms and a
week of bookings; the resident memory of `spacehub server` holding 10,000 members and
the 1,000,000 bookings; and a full pass of the garbage collector over what that server
holds.

    .venv/bin/python bench/bookings.py [--quick] [--rows FILE]
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, update  # noqa: E402

from bench import common  # noqa: E402
from bench.common import KEY, Report, Row, summary  # noqa: E402
from protocol.cards import card_hash  # noqa: E402
from protocol.policy import PolicySnapshot  # noqa: E402
from server.access.snapshot import PolicyCache  # noqa: E402
from server.adapters.scheduler import Scheduler  # noqa: E402
from server.app import create_app  # noqa: E402
from server.bookings.availability import availability  # noqa: E402
from server.context import ServerContext  # noqa: E402
from server.db import models  # noqa: E402
from server.db.meta import bump  # noqa: E402
from server.heap import settle_heap  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.site import load_site  # noqa: E402

CHUNK = 50_000
GRACE = "2s"
STATUSES = ("completed", "released", "cancelled")


def context(tmp: Path, db: str, site: Path) -> ServerContext:
    return ServerContext.create(
        Settings(database_url=f"sqlite:///{tmp}/{db}", card_key=KEY), site=load_site(site)
    )


def insert_rows(ctx: ServerContext, model: Any, rows: list[dict]) -> None:
    with ctx.writes() as s, s.begin():
        for i in range(0, len(rows), CHUNK):
            s.execute(insert(model), rows[i : i + CHUNK])


def add_members(ctx: ServerContext, n: int) -> list[int]:
    """`n` members (residents, each with a card); their ids."""
    insert_rows(
        ctx,
        models.Member,
        [{"name": f"Member {i}", "category": "resident"} for i in range(n)],
    )
    with ctx.reads() as s:
        ids = list(s.scalars(select(models.Member.id)))
    insert_rows(
        ctx,
        models.Card,
        [{"member_id": m, "uid_hash": card_hash(KEY, f"{m:08X}")} for m in ids],
    )
    return ids


def booking(room: str, who: int, start: datetime, end: datetime, status: str) -> dict:
    return {
        "room_id": room,
        "member_id": who,
        "start": start,
        "end": end,
        "status": status,
        "source": "api",
        "public": False,
        "price": 0,
    }


def fill(ctx: ServerContext, rooms: int, total: int, origin: datetime, who: list[int]) -> None:
    """`total` bookings over `rooms` rooms one after another from `origin`; those that
    start before now completed, released or cancelled, the rest booked."""
    now = datetime.now(UTC)
    per_room = total // rooms
    rows: list[dict] = []
    for r in range(rooms):
        t = origin
        for _ in range(per_room):
            t += timedelta(minutes=random.choice((30, 60, 120, 240)))
            end = t + timedelta(minutes=random.choice((60, 90, 120)))
            status = random.choice(STATUSES) if t < now else "booked"
            rows.append(booking(f"room-{r:04d}", random.choice(who), t, end, status))
            t = end
        if len(rows) >= CHUNK:
            insert_rows(ctx, models.Booking, rows)
            rows = []
    insert_rows(ctx, models.Booking, rows)


def release_lag(ctx: ServerContext, total: int, report: Report, due: int = 50) -> None:
    """`due` bookings whose grace ends over the next few seconds, written while the
    scheduler runs over the `total` already there; each one's lag after its grace."""
    scheduler = Scheduler(ctx)
    scheduler.start()
    grace = timedelta(seconds=ctx.site.access.no_show_grace)
    start = datetime.now(UTC) + timedelta(seconds=2)
    insert_rows(
        ctx,
        models.Booking,
        [
            booking("sala-a", 1, at - grace, at + timedelta(hours=1), "booked")
            for at in (start + timedelta(milliseconds=97 * i) for i in range(due))
        ],
    )
    B = models.Booking
    deadline = time.monotonic() + 30
    released: list[Any] = []
    while time.monotonic() < deadline and len(released) < due:
        time.sleep(0.2)
        with ctx.reads() as s:
            released = s.execute(
                select(B.start, B.released_at)
                .where(B.start >= start - grace - timedelta(1))
                .where(B.room_id == "sala-a", B.released_at.is_not(None))
            ).all()
    scheduler.stop()
    lags = [((r - (s + grace)).total_seconds() * 1000) for s, r in released]
    if len(lags) < due:
        lags += [float("inf")] * (due - len(lags))
    worst = max(lags)
    report.add(Row(f"release lag after grace, {total:,} bookings, p50", summary(lags)["p50"], "ms"))
    report.add(
        Row(
            f"release lag after grace, {total:,} bookings, max",
            worst,
            "ms",
            None,
            "≤ 1000 ms",
            worst <= 1000,
        )
    )


def availability_times(ctx: ServerContext, rooms: int, total: int, report: Report) -> None:
    samples = []
    origin = datetime.now(UTC) - timedelta(days=75)
    with ctx.reads() as s:
        for _ in range(500):
            room = f"room-{random.randrange(rooms):04d}"
            day = origin + timedelta(days=random.randrange(150))
            started = time.perf_counter()
            availability(s, site=ctx.site, room_id=room, start=day, end=day + timedelta(days=7))
            samples.append((time.perf_counter() - started) * 1000)
    q = summary(samples)
    what = f"availability of a room over 7 days, {rooms:,} rooms × {total:,} bookings"
    report.add(Row(f"{what} p50", q["p50"], "ms"))
    report.add(Row(f"{what} p99", q["p99"], "ms", None, "< 5 ms", q["p99"] < 5))


def snapshot(tmp: Path, members: int, rooms: int, per_day: int, report: Report) -> None:
    """The snapshot of `members` members with cards, `rooms` rooms and `per_day`
    bookings a room a day over the next week, rebuilt and encoded as the server does after
    a policy change (PolicyCache.get, which keeps the models of unchanged rows, then the
    compact form the gateway asks for; the size is that body's). Also the first build
    after a start (nothing to keep) and the size of the full form an older gateway gets."""
    from protocol.policy_wire import COMPACT, FULL, encode
    from server.access.snapshot import PolicyCache

    site = common.bench_site(tmp, rooms=rooms, name="snapshot.toml")
    ctx = context(tmp, "snapshot.db", site)
    who = add_members(ctx, members)
    now = datetime.now(UTC)
    rows = []
    for r in range(rooms):
        for day in range(7):
            for k in range(per_day):
                start = now.replace(hour=8, minute=0, second=0) + timedelta(days=day, hours=4 * k)
                rows.append(
                    booking(
                        f"room-{r:04d}",
                        random.choice(who),
                        start,
                        start + timedelta(hours=2),
                        "booked",
                    )
                )
    insert_rows(ctx, models.Booking, rows)
    cache = PolicyCache(ctx.site)

    def served() -> tuple[PolicySnapshot, bytes, float]:
        with ctx.reads() as s:
            started = time.perf_counter()
            snap = cache.get(s, now)
            body = encode(snap, COMPACT)
            return snap, body, (time.perf_counter() - started) * 1000

    snap, body, first = served()
    times = []
    for i in range(5):
        change_policy(ctx, who[i], now + timedelta(days=1, minutes=10 * i))
        before = snap.n
        snap, body, took = served()
        if snap.n == before:
            raise RuntimeError("the policy change did not rebuild the snapshot")
        times.append(took)
    held = len(json.loads(body)["bookings"])
    what = f"policy snapshot, {members:,} members, {rooms} rooms, {held:,} bookings"
    report.add(Row(f"{what}: size", len(body) / 1e6, "MB", None, "< 2 MB", len(body) < 2e6))
    report.add(Row(f"{what}: size of the full form", len(encode(snap, FULL)) / 1e6, "MB"))
    report.add(Row(f"{what}: first build + JSON after a start", first, "ms"))
    built = sorted(times)[len(times) // 2]
    report.add(
        Row(
            f"{what}: rebuild + JSON after a change (median of 5)",
            built,
            "ms",
            None,
            "< 200 ms",
            built < 200,
        )
    )
    ctx.close()


def change_policy(ctx: ServerContext, member: int, start: datetime) -> None:
    """A policy change as the server makes one: a booking made, a member suspended, the
    policy version bumped."""
    with ctx.writes() as s, s.begin():
        end = start + timedelta(hours=1)
        s.execute(insert(models.Booking), [booking("room-0000", member, start, end, "booked")])
        s.execute(
            update(models.Member).where(models.Member.id == member).values(suspended_until=end)
        )
        bump(s)


def server_memory(tmp: Path, site: Path, members: int, bookings: int, report: Report) -> None:
    """`spacehub server` on the big database: its RSS once healthy and after a minute's
    worth of its work (a policy snapshot fetched, the door path ready)."""
    import httpx

    with common.broker(common.brokers("both")[0], tmp / "mem") as b:
        server = common.ServerProcess(tmp, b.url, site, db="big.db")
        try:
            httpx.get(
                f"{server.url}/api/sites/{common.SITE}/policy",
                headers={"Authorization": f"Bearer {common.TOKEN}"},
                timeout=60,
            ).raise_for_status()
            time.sleep(2)
            mb = common.rss_mb(server.proc.pid)
        finally:
            server.stop()
    report.add(
        Row(
            f"server RSS, {members:,} members, {bookings:,} bookings",
            mb,
            "MB",
            None,
            "< 150 MB",
            mb < 150,
        )
    )


def collector_pause(tmp: Path, site: Path, members: int, bookings: int, report: Report) -> None:
    """A full pass of the garbage collector, which every thread waits for, in a process
    holding what `spacehub server` holds once it serves (its app, and the policy snapshot
    of the big database): as it is, next to the same after `settle_heap` was called before
    the snapshot was built, as the server calls it before it serves. Median of 5."""
    ctx = context(tmp, "big.db", site)
    app = create_app(ctx.settings, ctx=ctx, mqtt=False)

    def full_pass() -> float:
        with ctx.reads() as s:
            held = PolicyCache(ctx.site)
            held.get(s, ctx.clock())
        passes = []
        for _ in range(5):
            started = time.perf_counter()
            gc.collect()
            passes.append((time.perf_counter() - started) * 1000)
        return statistics.median(passes)

    try:
        unsettled = full_pass()  # its snapshot is gone when it returns
        settle_heap()
        settled = full_pass()
    finally:
        gc.unfreeze()
        ctx.close()
    del app
    name = f"full garbage-collector pass, server, {members:,} members, {bookings:,} bookings"
    report.add(Row(name, settled, "ms", unsettled))


def main() -> None:
    args = common.arguments(
        __doc__,
        release_bookings=(100_000, 2_000),
        rooms=(1000, 20),
        bookings=(1_000_000, 20_000),
        members=(10_000, 200),
        snapshot_rooms=(500, 20),
    )
    report = Report(args.rows)
    random.seed(7)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        small = common.bench_site(tmp, rooms=2, name="small.toml", no_show_grace=GRACE)
        ctx = context(tmp, "release.db", small)
        who = add_members(ctx, 1)
        fill(ctx, 2, args.release_bookings, datetime.now(UTC) - timedelta(days=400), who)
        release_lag(ctx, args.release_bookings, report)
        ctx.close()

        big = common.bench_site(tmp, rooms=args.rooms, name="big.toml", no_show_grace=GRACE)
        ctx = context(tmp, "big.db", big)
        who = add_members(ctx, args.members)
        started = time.perf_counter()
        fill(ctx, args.rooms, args.bookings, datetime.now(UTC) - timedelta(days=75), who)
        print(f"(loaded {args.bookings:,} bookings in {time.perf_counter() - started:.0f} s)")
        availability_times(ctx, args.rooms, args.bookings, report)
        release_lag(ctx, args.bookings, report)
        ctx.close()

        server_memory(tmp, big, args.members, args.bookings, report)
        snapshot(tmp, args.members, args.snapshot_rooms, 3, report)
        collector_pause(tmp, big, args.members, args.bookings, report)  # last: it freezes


if __name__ == "__main__":
    main()
