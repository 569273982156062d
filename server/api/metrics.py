"""`GET /metrics`: the server's figures in Prometheus' text format (server.monitoring.metrics),
for an admin's or staff's token or session, or for `SPACEHUB_METRICS_TOKEN` (a scraper's
token that may read nothing else)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from server.deps import CtxDep, caller
from server.monitoring.metrics import CONTENT_TYPE

router = APIRouter(tags=["metrics"])


def scraper(request: Request, ctx: CtxDep) -> None:
    """The metrics token, or else a caller who runs the site (401 / 403 otherwise)."""
    token = ctx.settings.metrics_token
    given = request.headers.get("authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return
    if caller(request, ctx).role not in scraper.roles:  # type: ignore[attr-defined]
        raise HTTPException(status_code=403, detail="this token may not do this")


scraper.roles = frozenset(("admin", "staff"))  # type: ignore[attr-defined]  # as deps.allow's


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"}},
)
def metrics(request: Request, ctx: CtxDep, _: Annotated[None, Depends(scraper)]) -> Response:
    """Messages, decisions, tap latency, lags, refusals, devices online and the mail queue."""
    state = request.app.state
    body = ctx.metrics.exposition(
        ctx, ingest=getattr(state, "ingest", None), sensors=getattr(state, "sensors", None)
    )
    return Response(body, media_type=CONTENT_TYPE)
