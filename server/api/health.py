"""`GET /healthz`: is the database answering and taking the ingest's writes, is the door
path's broker connection up, and is the door path keeping up."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.context import ServerContext
from server.deps import CtxDep

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])

# A door waits 2 s for a decision: a door path this far behind answers no door in time.
LAG_LIMIT_S = 10.0


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    db: Literal["ok", "error", "read_only"]  # read_only: the ingest's writes fail
    mqtt: Literal["connected", "disconnected", "disabled"]
    door_path_lag_s: float = 0.0  # age of the oldest door-path message not yet handled


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
    """`{"status":"ok","db":"ok","mqtt":...,"door_path_lag_s":0.0}`; 503 when the database
    is down or does not take the ingest's writes (`read_only`), the broker is down, or the
    door path is more than LAG_LIMIT_S behind."""
    ingest = getattr(request.app.state, "ingest", None)
    db = "ok" if database_ok(ctx) else "error"
    if db == "ok" and ingest is not None and not ingest.db_writable:
        db = "read_only"
    mqtt = mqtt_state(request)
    lag = round(ingest.lag_s, 3) if ingest is not None else 0.0
    ok = db == "ok" and mqtt != "disconnected" and lag <= LAG_LIMIT_S
    body = Health(status="ok" if ok else "unavailable", db=db, mqtt=mqtt, door_path_lag_s=lag)  # type: ignore[arg-type]
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
