"""Accounts over HTTP: parse, call `server.people.accounts`, audit, return.

Administrators manage every account; staff may add, change and delete member users only;
a caller bound to a site, member users and users bound to its site only
(`accounts.may_manage`). A staff or admin account may be bound to one site (`site_id`,
null: every site); a new staff account is bound to this server's site unless told (and a
new administrator to its maker's site)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from protocol.policy import Category
from server.db import models
from server.deps import CallerDep, CtxDep, ReadSession, Staff, WriteSession, audited
from server.people import accounts
from server.schemas import MAX_ID, Body, Email, Id, Name
from server.timefmt import ResponseTime

router = APIRouter(prefix="/api", tags=["accounts"], dependencies=[Staff])

UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
UserRole = Literal["admin", "staff", "member"]
Password = Annotated[str, Field(min_length=accounts.MIN_PASSWORD, max_length=200)]
SiteRef = Annotated[str, Field(min_length=1, max_length=64)]


class UserCreate(Body):
    email: Email
    name: Name
    role: UserRole
    member_id: Id | None = None
    category: Category | None = None  # a new member's, for a member user without member_id
    password: Password | None = None
    # null: every site; absent: this server's site for staff, and for an administrator
    # made by one bound to a site; every site for the others (accounts.default_site)
    site_id: SiteRef | None = None

    def site(self, here: str, by: accounts.Manager) -> str | None:
        """The site the account is bound to: as given, else the role's default here."""
        if "site_id" in self.model_fields_set:
            return self.site_id
        return accounts.default_site(self.role, here, by)


class UserPatch(Body):
    """Only the fields given change."""

    email: Email | None = None
    name: Name | None = None
    role: UserRole | None = None
    member_id: Id | None = None
    password: Password | None = None
    disabled: bool | None = None  # true: as DELETE; false: may sign in again
    site_id: SiteRef | None = None  # null: every site

    def changes(self) -> dict[str, object]:
        """The fields given; null means unchanged, but for `site_id` (every site)."""
        return {
            f: getattr(self, f)
            for f in self.model_fields_set
            if getattr(self, f) is not None or f == "site_id"
        }


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: str
    member_id: int | None
    site_id: str | None
    created_at: ResponseTime
    last_login_at: ResponseTime | None
    disabled_at: ResponseTime | None

    @classmethod
    def of(cls, user: models.User) -> UserOut:
        return cls.model_validate(user)


@router.post("/users", status_code=201)
def create_user(
    body: UserCreate, request: Request, principal: CallerDep, session: WriteSession, ctx: CtxDep
) -> UserOut:
    """Add a user; a member user is linked to `member_id` or to a new member made from
    `name`, `email` and `category`. 409 when the e-mail is taken."""
    with session.begin():
        user = accounts.create_user(
            session,
            email=body.email,
            name=body.name,
            role=body.role,
            password=body.password,
            member_id=body.member_id,
            category=body.category,
            site=ctx.site,
            site_id=body.site(ctx.site.id, principal.manager),
            now=ctx.clock(),
            by=principal.manager,
        )
        detail = {"role": user.role, "site_id": user.site_id}
        audited(request, session, "user.create", user.id, detail)
        return UserOut.of(user)


@router.get("/users")
def list_users(
    principal: CallerDep,
    session: ReadSession,
    role: UserRole | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[UserOut]:
    """Users by id, deleted ones included; those the caller manages only (staff: member
    users)."""
    accounts.may_manage(principal.manager, (role or "member", principal.site_id))
    found = accounts.list_users(
        session, role=role, limit=limit, offset=offset, by=principal.manager
    )
    return [UserOut.of(u) for u in found]


@router.get("/users/{user_id}")
def get_user(user_id: UserId, principal: CallerDep, session: ReadSession) -> UserOut:
    """One user; 404 when unknown."""
    user = accounts.get_user(session, user_id=user_id)
    accounts.may_manage(principal.manager, user)
    return UserOut.of(user)


@router.patch("/users/{user_id}")
def update_user(
    user_id: UserId,
    body: UserPatch,
    request: Request,
    principal: CallerDep,
    session: WriteSession,
    ctx: CtxDep,
) -> UserOut:
    """Change the fields given (a new password ends nobody's session); `disabled` true
    disables the user as DELETE does, false lets them sign in again."""
    changes = body.changes()
    with session.begin():
        user = accounts.update_user(
            session,
            user_id=user_id,
            changes=changes,
            now=ctx.clock(),
            here=ctx.site.id,
            by=principal.manager,
        )
        audited(request, session, "user.update", user.id, accounts.change_detail(user, changes))
        return UserOut.of(user)


@router.delete("/users/{user_id}", status_code=204, response_class=Response)
def delete_user(
    user_id: UserId, request: Request, principal: CallerDep, session: WriteSession, ctx: CtxDep
) -> Response:
    """Disable a user (the row stays for the audit trail); their sessions and tokens stop
    working at once. 204, again no error."""
    now = ctx.clock()
    with session.begin():
        user = accounts.get_user(session, user_id=user_id)
        accounts.may_manage(principal.manager, user)
        accounts.disable_user(session, user_id=user_id, now=now)
        audited(request, session, "user.delete", user_id)
    return Response(status_code=204)
