"""`GET /api/sites/{site}/policy`: the policy snapshot the server decides from, for the
gateway (its own token, or an administrator's), with an ETag so an unchanged one costs a
304 and no body; `?v=2` asks for its compact form (protocol.policy_wire)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Query, Response

from protocol.policy import PolicySnapshot
from protocol.policy_wire import FORMS, FULL, encode
from server.deps import CtxDep, Gateway, ReadSession

router = APIRouter(prefix="/api", tags=["policy"], dependencies=[Gateway])

SiteIdPath = Annotated[str, Path(min_length=1, max_length=64)]


def etag(snapshot: PolicySnapshot) -> str:
    """`"<epoch>-<n>-<build ms>"`. The build time is in it because the server rebuilds an
    unchanged policy every hour (server.access.snapshot.REBUILD_AFTER) to move its booking window
    on; a gateway that held the old build under the same tag would never see the bookings
    that came into the window meanwhile."""
    built = int(snapshot.generated_at.timestamp() * 1000)
    return f'"{snapshot.epoch}-{snapshot.n}-{built}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an `If-None-Match` header (a list, weak tags, or `*`) names `tag`."""
    if not if_none_match:
        return False
    given = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in given or tag in given


@router.get(
    "/sites/{site}/policy",
    response_model=None,
    responses={200: {"description": "the PolicySnapshot"}, 304: {"description": "unchanged"}},
)
def get_policy(
    site: SiteIdPath,
    session: ReadSession,
    ctx: CtxDep,
    if_none_match: Annotated[str | None, Header()] = None,
    v: Annotated[int, Query(ge=min(FORMS), le=max(FORMS), description="the wire form")] = FULL,
) -> Response:
    """The current snapshot (the very one the server's own decisions come from) in wire
    form `v` (1, the full form an older gateway reads, unless asked); 404 for a site this
    server does not serve."""
    if site != ctx.site.id:
        raise HTTPException(status_code=404, detail=f"no site {site!r} here")
    snapshot = ctx.policy.get(session, ctx.clock())
    tag = etag(snapshot)
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if matches(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    return Response(encode(snapshot, v), media_type="application/json", headers=headers)
