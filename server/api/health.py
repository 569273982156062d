"""`GET /healthz`: is the database answering and is the door path's broker connection up."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.context import ServerContext
from server.deps import CtxDep
from server.schemas import Health

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


def database_ok(ctx: ServerContext) -> bool:
    """True when the database answers a trivial query."""
    try:
        with ctx.reads() as session:
            session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        log.warning("health check: database unavailable: %s", exc)
        return False
    return True


def mqtt_state(request: Request) -> str:
    """`disabled` when the app runs without MQTT, else whether the ingest is connected."""
    ingest = getattr(request.app.state, "ingest", None)
    if ingest is None:
        return "disabled"
    return "connected" if ingest.client.connected else "disconnected"


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(request: Request, ctx: CtxDep) -> JSONResponse:
    """`{"status":"ok","db":"ok","mqtt":...}`; 503 when the database or the broker is down."""
    db = "ok" if database_ok(ctx) else "error"
    mqtt = mqtt_state(request)
    ok = db == "ok" and mqtt != "disconnected"
    body = Health(status="ok" if ok else "unavailable", db=db, mqtt=mqtt)  # type: ignore[arg-type]
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
