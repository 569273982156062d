"""Signing a browser in and out: the sign-in page's three ways (e-mail and password, a
sign-in link by e-mail, the administrator token) and the link itself.

| route | what |
| --- | --- |
| `GET /login?token=...` | sign in with the administrator token (the link the demo prints) |
| `POST /login` | the sign-in form: `email` and `password`, or the administrator's `token` |
| `POST /login/link` | send me a sign-in link: `email` (the same answer for any address) |
| `GET /auth/magic?token=...` | a sign-in link: once, for 15 minutes; to `/me/` or `/` |
| `POST /logout` | sign out (the form carries the session's `csrf_token`) |
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from server.dashboard.pages import page_lang, render
from server.deps import (
    check_form_csrf,
    client_address,
    end_session,
    get_ctx,
    read_form,
    start_session,
    token_principal,
)
from server.notify import texts
from server.people import accounts, logins

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def landing(role: str, request: Request) -> str:
    """Where a browser goes once signed in: the portal for a member, else the dashboard,
    in the language chosen on the sign-in page."""
    chosen = request.query_params.get("lang")
    path = "/me/" if role == "member" else "/"
    return f"{path}?lang={chosen}" if chosen in texts.LANGS else path


def _refused(
    request: Request, key: str, status: int = 401, *, token: bool = False, **params: object
) -> Response:
    """The sign-in page again, saying why (with the token form open for a bad token)."""
    lang = page_lang(request, request.query_params.get("lang"))
    error = texts.text(lang, key, **params)
    return render(request, "signin.html", lang, status=status, error=error, token_open=token)


def _with_token(request: Request, token: str | None) -> Response:
    ctx = get_ctx(request)
    if not ctx.settings.admin_token:
        return _refused(request, "signin.disabled", token=True)
    principal = token_principal(token, ctx)
    valid = principal is not None and principal.actor == "admin-token"
    response = RedirectResponse(
        landing("admin", request), status_code=303, headers={"Cache-Control": "no-store"}
    )
    try:
        with ctx.writes() as session, session.begin():
            client, now = client_address(request), ctx.clock()
            if logins.admin_token_attempt(session, valid=valid, client=client, now=now):
                start_session(request, session, response, user=None, how="admin-token")
    except logins.TooManyAttempts:
        return _refused(request, "signin.too_many", status=429, token=True)
    if not valid:
        log.warning("dashboard sign-in refused from %s", client_address(request))
        return _refused(request, "signin.bad", token=True)
    log.info("dashboard: signed in with the administrator token from %s", client_address(request))
    return response


def _with_password(request: Request, email: str, password: str) -> Response:
    ctx = get_ctx(request)
    response = RedirectResponse("/", status_code=303, headers={"Cache-Control": "no-store"})
    try:
        with ctx.writes() as session, session.begin():
            user = logins.authenticate(
                session,
                email=email,
                password=password,
                client=client_address(request),
                now=ctx.clock(),
            )
            if user is not None:
                response.headers["location"] = landing(user.role, request)
                start_session(request, session, response, user=user, how="password")
    except logins.TooManyAttempts:
        return _refused(request, "signin.too_many", status=429)
    return response if user is not None else _refused(request, "signin.bad_pair")


async def wrong_site(request: Request, exc: Exception) -> Response:
    """An account bound to another site, signing in or acting here (accounts.WrongSite):
    403 with the reason, as JSON for the API, else on the sign-in page in the reader's
    language."""
    assert isinstance(exc, accounts.WrongSite)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)
    return _refused(request, "signin.other_site", status=exc.status, site=exc.site_id)


@router.get("/login")
def login(request: Request, token: Annotated[str | None, Query(max_length=512)] = None) -> Response:
    """Sign a browser in with the administrator token (the link the demo prints)."""
    if token is None:
        return RedirectResponse("/", status_code=303)
    return _with_token(request, token)


@router.post("/login")
async def login_form(request: Request) -> Response:
    """The sign-in form: `email` and `password`, or the administrator's `token`."""
    form = await read_form(request, max_fields=8)
    if "token" in form:
        return _with_token(request, form["token"].strip() or None)
    email, password = form.get("email", "").strip(), form.get("password", "")
    if not email or not password:
        return _refused(request, "signin.bad_pair", status=422)
    return _with_password(request, email, password)


@router.post("/login/link")
async def link_form(request: Request) -> Response:
    """Send me a sign-in link: the same page whatever the address."""
    form = await read_form(request, max_fields=8)
    email = form.get("email", "").strip()[:254]
    ctx = get_ctx(request)
    lang = page_lang(request, request.query_params.get("lang"))
    if "@" in email:
        now = ctx.clock()
        with ctx.writes() as session, session.begin():
            logins.send_link(
                session, email=email, site=ctx.site, base_url=ctx.settings.public_url, now=now
            )
    return render(
        request,
        "signin.html",
        lang,
        status=202,
        error=None,
        notice=texts.text(lang, "signin.link_sent"),
    )


@router.get("/auth/magic")
def magic(request: Request, token: Annotated[str, Query(max_length=512)] = "") -> Response:
    """A one-time sign-in link: signs the browser in and leads to the portal (members) or
    the dashboard (staff); used, expired and unknown links are refused."""
    ctx = get_ctx(request)
    with ctx.writes() as session, session.begin():
        user = logins.redeem_link(session, secret=token, now=ctx.clock())
        if user is not None:
            response = RedirectResponse(
                landing(user.role, request), status_code=303, headers={"Cache-Control": "no-store"}
            )
            start_session(request, session, response, user=user, how="link")
            return response
    return _refused(request, "signin.link_bad", status=410)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Sign out: the session is revoked for good and its cookie cleared."""
    check_form_csrf(request, await read_form(request, max_fields=4))
    response = RedirectResponse("/", status_code=303)
    ctx = get_ctx(request)
    with ctx.writes() as session, session.begin():
        end_session(request, session, response)
    return response


__all__ = ["landing", "router", "wrong_site"]
