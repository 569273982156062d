"""Personal API tokens over HTTP: a signed-in user makes, lists and revokes their own; the
token is shown once, when it is made. The rules are in `server.people.tokens`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict

from server.deps import CallerDep, CtxDep, Principal, ReadSession, WriteSession, allow, audited
from server.errors import Forbidden
from server.people import tokens
from server.schemas import MAX_ID, Body, Label
from server.timefmt import RequestTime, ResponseTime

router = APIRouter(prefix="/api", tags=["tokens"], dependencies=[allow("staff", "member")])

TokenId = Annotated[int, Path(ge=1, le=MAX_ID)]


class TokenCreate(Body):
    name: Label
    expires: RequestTime | None = None


class TokenCreated(BaseModel):
    """The token itself is here only: it is stored hashed."""

    id: int
    name: str
    token: str
    expires: ResponseTime | None


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: ResponseTime
    expires_at: ResponseTime | None
    revoked_at: ResponseTime | None


def user_of(principal: Principal) -> int:
    """The caller's user: the bootstrap administrator token has none, so no tokens."""
    if principal.user_id is None:
        raise Forbidden("personal tokens belong to a user: sign in with an account")
    return principal.user_id


@router.post("/tokens", status_code=201)
def create_token(
    body: TokenCreate, request: Request, principal: CallerDep, session: WriteSession, ctx: CtxDep
) -> TokenCreated:
    """Make a personal token acting with the caller's role (201; the token only here)."""
    user_id = user_of(principal)
    with session.begin():
        secret, row = tokens.create(
            session, user_id=user_id, name=body.name, expires=body.expires, now=ctx.clock()
        )
        audited(request, session, "token.create", row.id, {"name": row.name})
        return TokenCreated(id=row.id, name=row.name, token=secret, expires=row.expires_at)


@router.get("/tokens")
def list_tokens(principal: CallerDep, session: ReadSession) -> list[TokenOut]:
    """The caller's tokens, revoked ones included, newest first (never the secrets)."""
    if principal.user_id is None:
        return []
    return [TokenOut.model_validate(t) for t in tokens.of_user(session, user_id=principal.user_id)]


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response)
def revoke_token(
    token_id: TokenId, request: Request, principal: CallerDep, session: WriteSession, ctx: CtxDep
) -> Response:
    """Revoke one of the caller's tokens, at once and for good (204; again no error)."""
    user_id = user_of(principal)
    with session.begin():
        tokens.revoke(session, user_id=user_id, token_id=token_id, now=ctx.clock())
        audited(request, session, "token.revoke", token_id)
    return Response(status_code=204)
