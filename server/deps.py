"""FastAPI dependencies: the server context, database sessions and who is calling.

Every route says which roles may call it in one place, its router's or its own
`dependencies=[...]`: `Admin`, `Staff`, `Gateway` or `allow("staff", "member")`
(an administrator may do everything). A route that a member may call keeps them to their
own things with `own(principal, member_id)` (or `own_filter` for a list).

    router = APIRouter(prefix="/api", dependencies=[Staff])

    @router.get("/bookings/{booking_id}", dependencies=[allow("staff", "member")])
    def get_booking(booking_id: int, principal: CallerDep, ...) -> ...:
        booking = ...
        own(principal, booking.member_id, *attendees)
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy.orm import Session

from server.context import ServerContext
from server.db import models
from server.errors import Forbidden
from server.people import accounts, audit, sessions, tokens
from server.people.sessions import COOKIE

Role = Literal["admin", "staff", "member", "gateway"]

# A browser signed in with the session cookie sends its session's CSRF token with every
# request that changes something: as this header from the script, as the form field
# `csrf_token` from a server-rendered form (check_form_csrf).
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role, the user (if any) and their member (for a member), and how
    the audit log names them (`user:<id>`, `token:<id>`, `admin-token`, `gateway-token`)."""

    role: Role
    actor: str
    user_id: int | None = None
    member_id: int | None = None
    csrf_token: str | None = None  # a session's (None for a bearer token)
    site_id: str | None = None  # the site the user's account is bound to (None: every site)

    @property
    def manager(self) -> accounts.Manager:
        """The caller as one who manages accounts (accounts.may_manage)."""
        return accounts.Manager(self.role, self.site_id)


def get_ctx(request: Request) -> ServerContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


async def _ctx(request: Request) -> ServerContext:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a hop per request
    return get_ctx(request)


CtxDep = Annotated[ServerContext, Depends(_ctx)]


def get_reader(ctx: CtxDep) -> Iterator[Session]:
    with ctx.reads() as session:
        yield session


def get_writer(ctx: CtxDep) -> Iterator[Session]:
    """A session whose transaction takes the write lock; commit it in the route's call."""
    with ctx.writes() as session:
        yield session


ReadSession = Annotated[Session, Depends(get_reader)]
WriteSession = Annotated[Session, Depends(get_writer)]


def _same(given: str, expected: str | None) -> bool:
    """Constant-time equality of a secret, as UTF-8 bytes: `compare_digest` refuses
    non-ASCII strings, and a token typed into a form may be anything."""
    if not expected:
        return False
    encoded = given.encode("utf-8", errors="surrogateescape")
    return secrets.compare_digest(encoded, expected.encode())


def token_principal(token: str | None, ctx: ServerContext) -> Principal | None:
    """Who a bearer token is: the administrator or gateway token, or a personal token."""
    if not token:
        return None
    if _same(token, ctx.settings.admin_token):
        return Principal(role="admin", actor="admin-token")
    if _same(token, ctx.settings.gateway_token):
        return Principal(role="gateway", actor="gateway-token")
    with ctx.reads() as session:
        row = tokens.find(session, token, ctx.clock())
        if row is None:
            return None
        user = accounts.get_user(session, user_id=row.user_id)
        return _of_user(user, ctx, f"token:{row.id}")


def session_principal(request: Request, ctx: ServerContext) -> Principal | None:
    """Who the request's session cookie signs in, or None (no cookie, or one that is
    unknown, expired, signed out, or the administrator token's at another site)."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    with ctx.reads() as session:
        row = sessions.find(session, value, ctx.clock(), here=ctx.site.id)
        if row is None:
            return None
        if row.user_id is None:
            return Principal(role="admin", actor="admin-token", csrf_token=row.csrf_token)
        user = accounts.get_user(session, user_id=row.user_id)
        return _of_user(user, ctx, f"user:{user.id}", row.csrf_token)


def _of_user(
    user: models.User, ctx: ServerContext, actor: str, csrf_token: str | None = None
) -> Principal:
    """A user acting now: with their role as it is now, and their member; 403
    (accounts.WrongSite) for an account bound to another site than this server's."""
    accounts.check_site(user, ctx.site.id)
    return Principal(
        role=user.role,  # type: ignore[arg-type]
        actor=actor,
        user_id=user.id,
        member_id=user.member_id,
        csrf_token=csrf_token,
        site_id=user.site_id,
    )


def caller(request: Request, ctx: CtxDep) -> Principal:
    """The caller from `Authorization: Bearer`, or else the session cookie; 401 without
    either. (The route's `allow` checks the role, and a session's CSRF token.)"""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization")
    if header is None:
        principal = session_principal(request, ctx)
    else:
        scheme, _, token = header.partition(" ")
        principal = token_principal(token.strip() if scheme.lower() == "bearer" else None, ctx)
    if principal is None:
        raise HTTPException(
            status_code=401,
            detail="a valid bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.principal = principal
    request.state.actor = principal.actor
    request.state.auth = "session" if header is None else "bearer"
    return principal


CallerDep = Annotated[Principal, Depends(caller)]


def allow(*roles: Role) -> Any:
    """The route dependency of a route these roles may call (and administrators)."""
    allowed = frozenset(("admin", *roles))

    async def require(request: Request, principal: CallerDep) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(status_code=403, detail="this token may not do this")
        await check_csrf(request, principal)
        return principal

    require.roles = allowed  # type: ignore[attr-defined]  # read by the docs and tests
    return Depends(require)


Admin = allow()
Staff = allow("staff")
Gateway = allow("gateway")
Members = allow("staff", "member")  # and, for a member, only what is their own


def routers(tag: str) -> tuple[APIRouter, APIRouter]:
    """An area's two routers: staff's (`Staff`), and its members' (`Members`), whose
    routes a member may call as well, for their own only (`own`, `own_filter`)."""
    staff = APIRouter(prefix="/api", tags=[tag], dependencies=[Staff])
    return staff, APIRouter(prefix="/api", tags=[tag], dependencies=[Members])


async def check_csrf(request: Request, principal: Principal) -> None:
    """A request made with the session cookie that changes something carries the session's
    CSRF token: the `X-CSRF-Token` header, or a form's `csrf_token` field (403 else)."""
    if principal.csrf_token is None or request.method in SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    if given is None and form:
        given = (await read_form(request)).get(CSRF_FIELD)
    if not _same(given or "", principal.csrf_token):
        raise HTTPException(
            status_code=403,
            detail=f"a signed-in browser must send its session's {CSRF_HEADER} header",
        )


def own(principal: Principal, *member_ids: int | None) -> None:
    """A member may act only on what is theirs: 403 unless their member is among
    `member_ids` (the holder, the attendees, ...). Anybody else passes."""
    if principal.role == "member" and principal.member_id not in member_ids:
        raise Forbidden("a member may only see and act on their own")


def own_filter(principal: Principal, member_id: int | None) -> int | None:
    """The `member_id` filter of a list: a member's own (403 for someone else's), or as
    asked for anybody else."""
    if principal.role != "member":
        return member_id
    if member_id is not None:
        own(principal, member_id)
    return principal.member_id


def check_form_csrf(request: Request, form: Any) -> None:
    """A server-rendered form's post must carry its session's `csrf_token` (403 else)."""
    ctx = get_ctx(request)
    principal = session_principal(request, ctx)
    given = form.get(CSRF_FIELD) if form is not None else None
    if principal is None or not isinstance(given, str) or not _same(given, principal.csrf_token):
        raise HTTPException(status_code=403, detail="the form is out of date; reload the page")


def csrf_token(request: Request) -> str:
    """The CSRF token of the request's session, for a page to embed ('' signed out)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        try:
            principal = session_principal(request, get_ctx(request))
        except accounts.WrongSite:  # the page saying so is for a browser signed in nowhere
            return ""
    return (principal.csrf_token or "") if principal is not None else ""


def role_of(request: Request) -> str | None:
    """The role of this request's caller (once `caller` has run), else None."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal.role if principal is not None else None


def actor(request: Request) -> str:
    """Who made this request, for the audit log (`caller` has run)."""
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


def client_label(request: Request) -> str:
    """The client of a session as staff see it: address and browser, shortened."""
    agent = request.headers.get("user-agent", "")[:120]
    return f"{client_address(request)} {agent}".strip()[:200]


def start_session(
    request: Request, session: Session, response: Response, *, user: models.User | None, how: str
) -> models.AuthSession:
    """Sign a browser in (a user, or None: the administrator token): a session row, its
    cookie on `response`, and `auth.sign_in` in the audit log. accounts.WrongSite (403)
    for an account bound to another site than this server's."""
    ctx = get_ctx(request)
    if user is not None:
        accounts.check_site(user, ctx.site.id)
    now = ctx.clock()
    here = ctx.site.id
    sessions.revoke(session, request.cookies.get(COOKIE), now, here=here)  # starts afresh
    role = user.role if user is not None else "admin"
    value, row = sessions.issue(
        session,
        user_id=None if user is None else user.id,
        role=role,
        now=now,
        client=client_label(request),
        site_id=here if user is None else None,
    )
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(sessions.TTL.total_seconds()),
        httponly=True,
        # Lax, so that a sign-in link opened from webmail lands signed in; every change made
        # with the cookie needs the session's CSRF token besides
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    who = "admin-token" if user is None else f"user:{user.id}"
    target = _str(None if user is None else user.id)
    audit.record(
        session, actor=who, action="auth.sign_in", target=target, detail={"how": how}, now=now
    )
    return row


def end_session(request: Request, session: Session, response: Response) -> None:
    """Sign the request's browser out for good (`auth.sign_out`) and clear its cookie."""
    ctx = get_ctx(request)
    now = ctx.clock()
    row = sessions.revoke(session, request.cookies.get(COOKIE), now, here=ctx.site.id)
    if row is not None:
        who = "admin-token" if row.user_id is None else f"user:{row.user_id}"
        audit.record(session, actor=who, action="auth.sign_out", target=_str(row.user_id), now=now)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)


async def read_form(request: Request, max_fields: int = 64) -> dict[str, str]:
    """The fields of an application/x-www-form-urlencoded body (the first of each name)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    fields = parse_qs(body, keep_blank_values=True, max_num_fields=max_fields)
    return {name: values[0] for name, values in fields.items()}
