"""Accounts: users with a role and an e-mail, their passwords (Argon2id), and a `member`
user's link to the member they are.

Plain functions over a Session; the caller owns the transaction. E-mail addresses are kept
lower-case and unique; a deleted user keeps its row (`disabled_at`) for the audit trail and
never signs in again.

A staff or admin account may be bound to one site (`site_id`): it signs in, and its
sessions and tokens work, at that site's servers only (`check_site`). None is every site;
a member's account is never bound (a member books at any site). Who manages whose account
(`may_manage`): administrators every account and staff member accounts only; and a caller
bound to a site only member accounts and accounts bound to that site, which is the only
site it may bind an account to (so nobody gives themselves more sites than they have).

    user = accounts.create_user(session, email="Ala@example.org", name="Ala",
                                role="staff", password="correct horse battery", now=now)
    accounts.verify_password(user, "correct horse battery")  # True
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from server.db import models
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.people import members
from server.site import SiteConfig

MIN_PASSWORD = 10
ROLES = ("admin", "staff", "member")  # gateways sign in with SPACEHUB_GATEWAY_TOKEN
_HASHER = PasswordHasher()  # Argon2id with argon2-cffi's recommended parameters
_EDITABLE = frozenset({"name", "email", "role", "password", "member_id", "disabled", "site_id"})


class Manager(NamedTuple):
    """Who manages accounts: their role, and the site they are bound to (None: every
    site, as the administrator token)."""

    role: str
    site_id: str | None = None


class WrongSite(Forbidden):
    """An account bound to another site (`site_id`), at this site's server."""

    def __init__(self, site_id: str, here: str) -> None:
        super().__init__(f"this account works at the site {site_id} only, not at {here}")
        self.site_id = site_id


def check_site(user: models.User, site_id: str) -> None:
    """WrongSite (403) unless the user may act at the site `site_id`: their account is
    bound to no site or to this one."""
    if user.site_id is not None and user.site_id != site_id:
        raise WrongSite(user.site_id, site_id)


def default_site(role: str, here: str, by: Manager | None = None) -> str | None:
    """The site a new account made at the site `here` (by `by`) is bound to, unless told:
    staff to `here`, administrators to the site their maker is bound to (none: every
    site), members to none."""
    if role == "staff":
        return here
    return by.site_id if role == "admin" and by is not None else None


def sites(session: Session, by: Manager | None = None) -> list[models.Site]:
    """The deployment's sites, by id: those an account may be bound to (by `by`: its
    own site only, when it is bound to one)."""
    stmt = select(models.Site).order_by(models.Site.id)
    if by is not None and by.site_id is not None:
        stmt = stmt.where(models.Site.id == by.site_id)
    return list(session.scalars(stmt))


def _site_of(session: Session, role: str, site_id: str | None) -> str | None:
    """The site an account of `role` may be bound to: Invalid for a member's account bound
    to any, or for a site the deployment does not have."""
    if site_id is None:
        return None
    if role == "member":
        raise Invalid("a member's account is not bound to a site")
    if session.get(models.Site, site_id) is None:
        raise Invalid(f"no site {site_id}")
    return site_id


def may_manage(by: Manager, *held: models.User | tuple[str, str | None]) -> None:
    """Forbidden unless `by` may manage accounts of these users, or of these (role,
    site_id): administrators every account, staff member accounts only; a caller bound to
    a site only member accounts and accounts bound to that site."""
    for role, site_id in (_held(h) for h in held):
        if role == "member":
            continue
        if by.role != "admin":
            raise Forbidden("staff may manage member accounts only")
        if by.site_id is not None and site_id != by.site_id:
            raise Forbidden(
                f"an account bound to the site {by.site_id} manages member accounts and"
                f" accounts bound to {by.site_id} only"
            )


def manages(by: Manager, role: str, site_id: str | None) -> bool:
    """Whether `by` may manage an account of this role and site (may_manage)."""
    try:
        may_manage(by, (role, site_id))
    except Forbidden:
        return False
    return True


def _held(held: models.User | tuple[str, str | None]) -> tuple[str, str | None]:
    return (held.role, held.site_id) if isinstance(held, models.User) else held


@cache
def _dummy(hasher: PasswordHasher) -> str:
    """Verified against when the account does not exist, so that a wrong e-mail costs as
    long as a wrong password (made on the first sign-in, not on every import)."""
    return hasher.hash("not anybody's password")


def hash_password(password: str) -> str:
    """An Argon2id hash (`$argon2id$...`); Invalid for a password under 10 characters."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password has at least {MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def verify_password(user: models.User | None, password: str) -> bool:
    """True when `password` is the user's; as slow for a missing user or one without a
    password as for a wrong password."""
    stored = user.password_hash if user is not None and user.password_hash else _dummy(_HASHER)
    try:
        ok = _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and user is not None and user.password_hash is not None


def normal_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(session: Session, email: str) -> models.User | None:
    """The active user with this e-mail (in any case), or None."""
    user = session.scalar(select(models.User).where(models.User.email == normal_email(email)))
    return user if user is not None and user.disabled_at is None else None


def get_user(session: Session, *, user_id: int) -> models.User:
    """The user (disabled ones included), or NotFound."""
    user = session.get(models.User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def active_user(session: Session, user_id: int) -> models.User | None:
    """The user if they may act now (exists and not disabled)."""
    user = session.get(models.User, user_id)
    return user if user is not None and user.disabled_at is None else None


def list_users(
    session: Session,
    *,
    role: str | None = None,
    limit: int = 100,
    offset: int = 0,
    by: Manager | None = None,
) -> list[models.User]:
    """Users by id, disabled ones included; those `by` may manage only, if given."""
    stmt = select(models.User).order_by(models.User.id).limit(limit).offset(offset)
    if role is not None:
        stmt = stmt.where(models.User.role == role)
    if by is not None and by.role != "admin":
        stmt = stmt.where(models.User.role == "member")
    if by is not None and by.site_id is not None:
        U = models.User
        stmt = stmt.where(or_(U.role == "member", U.site_id == by.site_id))
    return list(session.scalars(stmt))


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    now: datetime,
    password: str | None = None,
    member_id: int | None = None,
    category: str | None = None,
    site: SiteConfig | None = None,
    site_id: str | None = None,
    by: Manager | None = None,
) -> models.User:
    """Add a user. A `member` user is linked to `member_id`, or to a new member made from
    `name`, `email` and `category`; other roles have no member, and may be bound to the
    site `site_id`. Conflict when the e-mail is taken; Forbidden when `by` may not manage
    such an account (may_manage)."""
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    if by is not None:
        may_manage(by, (role, site_id))
    address = normal_email(email)
    _email_free(session, address)
    if role == "member":
        member_id = _member_for(session, member_id, name, address, category, site)
    elif member_id is not None or category is not None:
        raise Invalid("only a member user has a member_id or a category")
    user = models.User(
        email=address,
        name=name,
        role=role,
        member_id=member_id,
        site_id=_site_of(session, role, site_id),
        password_hash=None if password is None else hash_password(password),
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session,
    *,
    user_id: int,
    changes: dict[str, Any],
    now: datetime,
    here: str | None = None,
    by: Manager | None = None,
) -> models.User:
    """Change name, e-mail, role, password, member link or site (`site_id`, None: every
    site; a member's account has none; a member made staff at the site `here` is bound to
    it unless told), or disable (`"disabled": True`, as disable_user) or enable the user
    again (False: enable_user); Conflict for a taken e-mail. Forbidden, and nothing
    changed, unless `by` (if given) may manage the account as it is and as it would be."""
    user = get_user(session, user_id=user_id)
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise Invalid(f"cannot change {', '.join(sorted(unknown))}")
    role = changes.get("role", user.role)
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    member_id = changes.get("member_id", user.member_id)
    if role == "member" and member_id is None:
        raise Invalid("a member user needs a member_id")
    if member_id is not None:
        members.get_member(session, member_id=member_id)
    if "site_id" in changes:
        site_id = changes["site_id"]
    elif role == "member":
        site_id = None
    elif user.role == "member" and here is not None:
        site_id = default_site(role, here, by)
    else:
        site_id = user.site_id
    site_id = _site_of(session, role, site_id)
    if by is not None:
        may_manage(by, user, (role, site_id))
    if "disabled" in changes:
        toggle = disable_user if changes["disabled"] else enable_user
        toggle(session, user_id=user_id, now=now)
    if "email" in changes and normal_email(changes["email"]) != user.email:
        _email_free(session, normal_email(changes["email"]), but=user.id)
        user.email = normal_email(changes["email"])
    if "name" in changes:
        user.name = changes["name"]
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
    user.site_id = site_id
    user.role, user.member_id = role, member_id if role == "member" else None
    session.flush()
    return user


def change_detail(user: models.User, fields: Iterable[str]) -> dict[str, Any]:
    """What the audit log records of a change of these fields of the user (`user.update`):
    their names and the role, and that the password changed, never the password."""
    named = set(fields)
    detail: dict[str, Any] = {"fields": sorted(named - {"password"}), "role": user.role}
    if "password" in named:
        detail["password"] = "changed"
    if "disabled" in named:
        detail["disabled"] = user.disabled_at is not None
    if "site_id" in named:
        detail["site_id"] = user.site_id
    return detail


def disable_user(session: Session, *, user_id: int, now: datetime) -> models.User:
    """Delete a user: the row stays (for the audit trail), the user never signs in again
    until enabled; their sessions and tokens end for good."""
    user = get_user(session, user_id=user_id)
    if user.disabled_at is None:
        user.disabled_at = now
    revoke_access(session, user_ids=[user.id], now=now)
    return user


def enable_user(session: Session, *, user_id: int, now: datetime) -> models.User:
    """Let a disabled user sign in again (with a password or a new sign-in link: the
    sessions and tokens they had stay ended). Invalid for a user whose member was erased."""
    user = get_user(session, user_id=user_id)
    member = session.get(models.Member, user.member_id) if user.member_id else None
    if member is not None and member.erased_at is not None:
        raise Invalid("the user's member was erased (GDPR); make a new account")
    user.disabled_at = None
    # Disabled before disabling revoked them, a user's old sessions and tokens would
    # come back with the account: ended here too.
    revoke_access(session, user_ids=[user.id], now=now)
    return user


def revoke_access(session: Session, *, user_ids: list[int], now: datetime) -> None:
    """End every session and token of these users, for good."""
    if not user_ids:
        return
    for model in (models.AuthSession, models.ApiToken):
        session.execute(
            update(model)
            .where(model.user_id.in_(user_ids), model.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def _email_free(session: Session, address: str, but: int | None = None) -> None:
    taken = session.scalar(
        select(func.count())
        .select_from(models.User)
        .where(models.User.email == address)
        .where(models.User.id != (but or 0))
    )
    if taken:
        raise Conflict(f"a user with the e-mail {address} exists")


def _member_for(
    session: Session,
    member_id: int | None,
    name: str,
    email: str,
    category: str | None,
    site: SiteConfig | None,
) -> int:
    if member_id is not None:
        if category is not None:
            raise Invalid("give member_id or category, not both")
        return members.get_member(session, member_id=member_id).id
    if category is None:
        raise Invalid("a member user needs a member_id, or a category for a new member")
    return members.create_member(session, name=name, email=email, category=category, site=site).id
