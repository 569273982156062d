"""FastAPI dependencies: the server context, database sessions and who is calling."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from server.context import ServerContext
from server.db import models
from server.people import audit
from server.people.sessions import COOKIE, Sessions

Role = Literal["admin", "staff", "member", "gateway"]

# A browser signed in with the session cookie must send this header with every request that
# changes something. A page of another site cannot add it without a CORS preflight, which
# this server never grants; with the SameSite=Strict cookie that makes CSRF fail twice over.
CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "spacehub"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_ctx(request: Request) -> ServerContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


CtxDep = Annotated[ServerContext, Depends(get_ctx)]


def get_reader(ctx: CtxDep) -> Iterator[Session]:
    with ctx.reads() as session:
        yield session


def get_writer(ctx: CtxDep) -> Iterator[Session]:
    """A session whose transaction takes the write lock; commit it in the route's call."""
    with ctx.writes() as session:
        yield session


ReadSession = Annotated[Session, Depends(get_reader)]
WriteSession = Annotated[Session, Depends(get_writer)]


def token_role(token: str | None, ctx: ServerContext) -> Role | None:
    """The role a token gives, or None. Compared as UTF-8 bytes: `compare_digest` refuses
    non-ASCII strings, and a token typed into a form may be anything."""
    if not token:
        return None
    given = token.encode("utf-8", errors="surrogateescape")
    s = ctx.settings
    if s.admin_token and secrets.compare_digest(given, s.admin_token.encode()):
        return "admin"
    if s.gateway_token and secrets.compare_digest(given, s.gateway_token.encode()):
        return "gateway"
    return None


def get_sessions(request: Request) -> Sessions:
    """The app's dashboard sessions (made in the lifespan, from the context's admin token)."""
    sessions: Sessions | None = getattr(request.app.state, "sessions", None)
    if sessions is None:  # an app whose lifespan did not run: nobody can be signed in
        return Sessions(None)
    return sessions


def has_session(request: Request, ctx: ServerContext) -> bool:
    """True when the request carries a valid dashboard session cookie."""
    return get_sessions(request).valid(request.cookies.get(COOKIE), ctx.clock())


def caller(request: Request, ctx: CtxDep) -> Role:
    """The caller's role from `Authorization: Bearer`, or else the dashboard's session
    cookie (an administrator's; with the CSRF header on anything but GET); 401 without
    either."""
    header = request.headers.get("authorization")
    if header is None and has_session(request, ctx):
        if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != CSRF_VALUE:
            raise HTTPException(
                status_code=403,
                detail=f"a signed-in browser must send the header {CSRF_HEADER}: {CSRF_VALUE}",
            )
        request.state.auth = "session"
        request.state.actor = session_actor(request.cookies.get(COOKIE, ""))
        return "admin"
    scheme, _, token = (header or "").partition(" ")
    role = token_role(token.strip() if scheme.lower() == "bearer" else None, ctx)
    if role is None:
        raise HTTPException(
            status_code=401,
            detail="a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.auth = "bearer"
    request.state.actor = f"{role}-token"
    return role


def session_actor(cookie: str) -> str:
    """Who a dashboard session is in the audit log: a short hash of its cookie, which tells
    one session from another without being usable as one."""
    return "session:" + hashlib.sha256(cookie.encode()).hexdigest()[:12]


def actor(request: Request) -> str:
    """Who made this request, for the audit log (`caller` has run): `admin-token`, or
    `session:<hash>` for a signed-in dashboard."""
    return getattr(request.state, "actor", "unknown")  # type: ignore[no-any-return]


def audited(
    request: Request,
    session: Session,
    action: str,
    target: str | int | None,
    detail: dict[str, Any] | None = None,
) -> models.AuditEntry:
    """Record in the audit log, in the caller's transaction, that this request's caller
    did `action` to `target` (server.people.audit.ACTIONS)."""
    ctx: ServerContext = request.app.state.ctx
    return audit.record(
        session,
        actor=actor(request),
        action=action,
        target=None if target is None else str(target),
        detail=detail,
        now=ctx.clock(),
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def require_admin(role: Annotated[Role, Depends(caller)]) -> Role:
    if role != "admin":
        raise HTTPException(status_code=403, detail="this token may not do this")
    return role


def require_staff(role: Annotated[Role, Depends(caller)]) -> Role:
    """Staff's routes: running the site (administrators may do everything staff may)."""
    if role not in ("admin", "staff"):
        raise HTTPException(status_code=403, detail="this token may not do this")
    return role


def require_gateway(role: Annotated[Role, Depends(caller)]) -> Role:
    """The policy snapshot is for gateways (and administrators)."""
    return role


Admin = Depends(require_admin)
Staff = Depends(require_staff)
