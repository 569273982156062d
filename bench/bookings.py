"""Booking figures: how soon after its grace a no-show is released, with 100,000 bookings
in the database, and how long an availability query takes over 1,000 rooms and
1,000,000 bookings.

    .venv/bin/python bench/bookings.py [--release-bookings 100000] [--rooms 1000]
                                       [--bookings 1000000]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from server.adapters.scheduler import Scheduler  # noqa: E402
from server.bookings.availability import availability  # noqa: E402
from server.context import ServerContext  # noqa: E402
from server.db import models  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.site import Room, load_site  # noqa: E402

SITE_FILE = Path(__file__).resolve().parent.parent / "firmware_configs/sites/piaseczno.toml"
CHUNK = 50_000


def bulk_bookings(ctx: ServerContext, rows: list[dict]) -> None:
    with ctx.writes() as s, s.begin():
        for i in range(0, len(rows), CHUNK):
            s.execute(insert(models.Booking), rows[i : i + CHUNK])


def member(ctx: ServerContext) -> int:
    with ctx.writes() as s, s.begin():
        m = models.Member(name="Bench Member", category="resident")
        s.add(m)
        s.flush()
        return m.id


def quantiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return (
        f"median {statistics.median(samples):7.2f} ms   p95 {q[94]:7.2f} ms   "
        f"p99 {q[98]:7.2f} ms   max {max(samples):7.2f} ms   (n={len(samples)})"
    )


def release_lag(tmp: Path, total: int, due: int = 50) -> None:
    """`due` bookings whose grace ends over the next few seconds, among `total`."""
    site = load_site(SITE_FILE)
    grace = 2.0
    site = site.model_copy(
        update={"access": site.access.model_copy(update={"no_show_grace": grace})}
    )
    ctx = ServerContext.create(Settings(database_url=f"sqlite:///{tmp}/release.db"), site=site)
    who = member(ctx)
    now = datetime.now(UTC)
    past = now - timedelta(days=400)
    rows = [
        {
            "room_id": ("sala-a", "sala-b")[i % 2],
            "member_id": who,
            "start": past + timedelta(hours=i // 2),
            "end": past + timedelta(hours=i // 2, minutes=50),
            "status": random.choice(("completed", "released", "cancelled", "booked")),
            "source": "api",
            "public": False,
            "price": 0,
        }
        for i in range(total - due)
    ]
    # the "booked" ones in the past would be released at once: make them future instead
    for r in rows:
        if r["status"] == "booked":
            r["start"] += timedelta(days=800)
            r["end"] += timedelta(days=800)
    bulk_bookings(ctx, rows)
    scheduler = Scheduler(ctx)
    scheduler.start()
    # due from two seconds after they are written, while the scheduler already runs
    start = datetime.now(UTC) + timedelta(seconds=2)
    rows = [
        {
            "room_id": "sala-a",
            "member_id": who,
            "start": start + timedelta(milliseconds=97 * i) - timedelta(seconds=grace),
            "end": start + timedelta(hours=1),
            "status": "booked",
            "source": "api",
            "public": False,
            "price": 0,
        }
        for i in range(due)
    ]
    bulk_bookings(ctx, rows)
    deadline = time.monotonic() + 30
    B = models.Booking
    while time.monotonic() < deadline:
        with ctx.reads() as s:
            released = s.execute(
                select(B.start, B.released_at).where(B.released_at.is_not(None))
            ).all()
        if len(released) >= due:
            break
        time.sleep(0.2)
    scheduler.stop()
    lags = [
        (released_at - (start + timedelta(seconds=grace))).total_seconds() * 1000
        for start, released_at in released
    ]
    print(f"release lag after grace, {total:,} bookings in the database:")
    print(f"  {quantiles(lags)}   (scheduler interval 250 ms; goal: within 1 s)")
    ctx.close()


def availability_time(tmp: Path, rooms: int, total: int, queries: int = 500) -> None:
    site = load_site(SITE_FILE)
    extra = [
        Room(id=f"room-{i:04d}", name=f"Sala {i}", kind="meeting", capacity=10, bookable=True)
        for i in range(rooms)
    ]
    site = site.model_copy(update={"rooms": site.rooms + extra})
    ctx = ServerContext.create(Settings(database_url=f"sqlite:///{tmp}/avail.db"), site=site)
    who = member(ctx)
    origin = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    per_room = total // rooms
    started = time.perf_counter()
    rows = []
    for r in range(rooms):
        t = origin
        for _ in range(per_room):
            t += timedelta(minutes=random.choice((30, 60, 120, 240)))
            length = timedelta(minutes=random.choice((60, 90, 120)))
            rows.append(
                {
                    "room_id": f"room-{r:04d}",
                    "member_id": who,
                    "start": t,
                    "end": t + length,
                    "status": "completed",
                    "source": "api",
                    "public": False,
                    "price": 0,
                }
            )
            t += length
        if len(rows) >= CHUNK:
            bulk_bookings(ctx, rows)
            rows = []
    bulk_bookings(ctx, rows)
    print(
        f"(loaded {total:,} bookings into {rooms:,} rooms in {time.perf_counter() - started:.0f} s)"
    )
    samples = []
    with ctx.reads() as s:
        for _ in range(queries):
            room = f"room-{random.randrange(rooms):04d}"
            day = origin + timedelta(days=random.randrange(150))
            t0 = time.perf_counter()
            availability(s, site=site, room_id=room, start=day, end=day + timedelta(days=7))
            samples.append((time.perf_counter() - t0) * 1000)
    print(f"availability of one room over 7 days, {rooms:,} rooms, {total:,} bookings:")
    print(f"  {quantiles(samples)}   (goal: under 20 ms)")
    ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release-bookings", type=int, default=100_000)
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--bookings", type=int, default=1_000_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    random.seed(7)
    with tempfile.TemporaryDirectory() as tmp:
        release_lag(Path(tmp), args.release_bookings)
        availability_time(Path(tmp), args.rooms, args.bookings)


if __name__ == "__main__":
    main()
