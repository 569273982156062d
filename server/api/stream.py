"""`GET /api/stream`: live events for dashboards, as Server-Sent Events.

What a client reads, in order:

1. `retry: 2000` (reconnect after two seconds when the connection drops);
2. one `snapshot` event, without an `id:`: the whole current state, as the dashboard
   shows it: `{"rooms": [...], "alerts": [...], "feed": [...], "evacuation": {...},
   "devices": [...]}` (see `server.dashboard.views`; each room carries its `state` word:
   `free`, `booked_waiting`, `in_use`, `in_use_unbooked`, `released` or
   `over_capacity`; `alerts` are the open ones);
3. then every live event as it happens: `event:` one of `room`, `access`, `booking`,
   `device`, `alert`; `id:` a number that grows within one server process; `data:` the
   event's model (server.live.kinds, one per kind) as one line of JSON;
4. a comment line (`: heartbeat`) after every 15 seconds without an event, so proxies
   and clients know the connection is alive.

The stream has no history: a client that reconnects (whatever its `Last-Event-ID`) gets a
fresh snapshot and then live events. It subscribes before the snapshot is read, so no
change falls between the two (one may appear in both)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from protocol.messages import format_time
from server.context import ServerContext
from server.dashboard import views
from server.deps import Staff
from server.live.events import Event

router = APIRouter(prefix="/api", tags=["stream"], dependencies=[Staff])

HEARTBEAT_S = 15.0
# How often a quiet stream checks that its client is still there (an ASGI server that
# reports disconnects cancels the stream sooner).
POLL_S = 1.0
RETRY_MS = 2000


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return format_time(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def sse(kind: str, data: dict[str, Any], event_id: int | None = None) -> str:
    """One Server-Sent Event: `event:`, `id:` (when given) and the data as one JSON line."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    head = f"event: {kind}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return f"{head}data: {body}\n\n"


def snapshot(ctx: ServerContext) -> dict[str, Any]:
    """The state a client that connects gets first."""
    with ctx.reads() as session:
        return views.dashboard(session, ctx).as_json()


async def events(
    request: Request,
    ctx: ServerContext,
    *,
    heartbeat: float | None = None,
    poll: float | None = None,
) -> AsyncIterator[str]:
    """The stream of one client, until it goes away; its subscription is then closed."""
    heartbeat = HEARTBEAT_S if heartbeat is None else heartbeat
    poll = POLL_S if poll is None else poll
    sub = ctx.events.subscribe()
    try:
        yield f"retry: {RETRY_MS}\n\n"
        yield sse("snapshot", await run_in_threadpool(snapshot, ctx))
        last_write = time.monotonic()
        while True:
            event: Event | None = await sub.get(timeout=min(poll, heartbeat))
            if event is not None:
                yield sse(event.kind, event.data, event.id)
                last_write = time.monotonic()
                continue
            if await request.is_disconnected():
                return
            if time.monotonic() - last_write >= heartbeat:
                yield ": heartbeat\n\n"
                last_write = time.monotonic()
    finally:
        sub.close()


@router.get("/stream", response_class=StreamingResponse)
async def stream(request: Request) -> StreamingResponse:
    """Server-Sent Events: a `snapshot` of the current state, then `room`, `access`,
    `booking`, `device` and `alert` events as they happen, with a heartbeat every 15 s."""
    ctx: ServerContext = request.app.state.ctx
    return StreamingResponse(
        events(request, ctx),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
