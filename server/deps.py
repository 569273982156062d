"""FastAPI dependencies: the server context, database sessions and who is calling."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from server.context import ServerContext

Role = Literal["admin", "gateway"]


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


def _role_of(token: str | None, ctx: ServerContext) -> Role | None:
    if not token:
        return None
    s = ctx.settings
    if s.admin_token and secrets.compare_digest(token, s.admin_token):
        return "admin"
    if s.gateway_token and secrets.compare_digest(token, s.gateway_token):
        return "gateway"
    return None


def caller(request: Request, ctx: CtxDep) -> Role:
    """The caller's role from `Authorization: Bearer` (or the dashboard's session); 401
    without a valid token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    role = _role_of(token.strip() if scheme.lower() == "bearer" else None, ctx)
    if role is None:
        raise HTTPException(
            status_code=401,
            detail="a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return role


def require_admin(role: Annotated[Role, Depends(caller)]) -> Role:
    if role != "admin":
        raise HTTPException(status_code=403, detail="this token may not do this")
    return role


def require_gateway(role: Annotated[Role, Depends(caller)]) -> Role:
    """The policy snapshot is for gateways (and administrators)."""
    return role


Admin = Depends(require_admin)
