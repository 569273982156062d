"""Signing in and out over HTTP: a password (within the login limits), a one-time link by
e-mail, and the end of a session. The rules are in `server.people.logins`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from server.api.users import UserOut
from server.deps import (
    CtxDep,
    WriteSession,
    allow,
    client_address,
    end_session,
    start_session,
)
from server.openapi import Error
from server.people import logins
from server.schemas import Body, Email

router = APIRouter(prefix="/api/auth", tags=["auth"])

BAD_PAIR = "wrong e-mail or password"


class LoginIn(Body):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str


class LinkIn(Body):
    email: Email


class Accepted(BaseModel):
    detail: str


@router.post(
    "/login",
    responses={
        401: {"model": Error, "description": "a wrong e-mail or password"},
        429: {"model": Error, "description": "too many failed sign-ins"},
    },
)
def login(
    body: LoginIn, request: Request, response: Response, session: WriteSession, ctx: CtxDep
) -> LoginOut:
    """Sign in with e-mail and password: the user, the session's CSRF token and the session
    cookie. 401 for a wrong pair (the same whether or not the account exists); 429 after 5
    failures for one account or one address within 15 minutes."""
    now = ctx.clock()
    with session.begin():
        user = logins.authenticate(
            session,
            email=body.email,
            password=body.password,
            client=client_address(request),
            now=now,
        )
        if user is not None:
            row = start_session(request, session, response, user=user, how="password")
            out = LoginOut(user=UserOut.of(user), csrf_token=row.csrf_token)
    if user is None:
        raise HTTPException(status_code=401, detail=BAD_PAIR)
    return out


@router.post("/magic-link", status_code=202)
def magic_link(body: LinkIn, session: WriteSession, ctx: CtxDep) -> Accepted:
    """Send a one-time sign-in link (valid 15 minutes) to a member or staff account with
    this e-mail; 202 whatever the address."""
    now = ctx.clock()
    with session.begin():
        logins.send_link(
            session, email=body.email, site=ctx.site, base_url=ctx.settings.public_url, now=now
        )
    return Accepted(detail="if an account has this e-mail, a sign-in link is on its way")


@router.post(
    "/logout", status_code=204, response_class=Response, dependencies=[allow("staff", "member")]
)
def logout(request: Request, session: WriteSession) -> Response:
    """End the session of the cookie (for good, on every replica); a bearer token has no
    session to end (204 as well)."""
    response = Response(status_code=204)
    with session.begin():
        end_session(request, session, response)
    return response
