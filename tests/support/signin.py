"""Signing a TestClient in as the dashboard does: with the administrator token or an
e-mail and password, and the session's CSRF token to send back."""

from __future__ import annotations

import re
from typing import Any

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def csrf_of(client: Any, page: str = "/") -> str:
    """The CSRF token a page of the signed-in client embeds."""
    found = CSRF_META.search(client.get(page).text)
    assert found is not None and found.group(1), "the page has no CSRF token"
    return found.group(1)


def sign_in_with_token(client: Any) -> dict[str, str]:
    """Sign in with the administrator token (the demo's link); the CSRF header to send."""
    token = client.app.state.ctx.settings.admin_token
    assert client.get(f"/login?token={token}", follow_redirects=False).status_code == 303
    return {"X-CSRF-Token": csrf_of(client)}


def sign_in(client: Any, email: str, password: str) -> dict[str, str]:
    """Sign in with a password through the API; the CSRF header to send."""
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def make_user(
    ctx: Any,
    role: str,
    email: str,
    *,
    password: str | None = "correct horse battery",
    member_id: int | None = None,
    category: str | None = None,
) -> Any:
    """A user made straight in the database (as `POST /api/users` would)."""
    from server.people import accounts

    with ctx.writes() as session, session.begin():
        user = accounts.create_user(
            session,
            email=email,
            name=email.split("@")[0],
            role=role,
            password=password,
            member_id=member_id,
            category=category if role == "member" and member_id is None else None,
            site=ctx.site,
            now=ctx.clock(),
        )
        session.expunge(user)
        return user


def bearer_of(ctx: Any, user_id: int) -> dict[str, str]:
    """The Authorization header of a new personal token of the user."""
    from server.people import tokens

    with ctx.writes() as session, session.begin():
        secret, _ = tokens.create(
            session, user_id=user_id, name="test", expires=None, now=ctx.clock()
        )
    return {"Authorization": f"Bearer {secret}"}
