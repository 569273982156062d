"""Signing in: by e-mail and password, within the login limits, or by a one-time link sent
by e-mail.

Limits: 5 failures for one account or from one client address within 15 minutes, and
further attempts are refused (429) until the oldest of them is 15 minutes old; a wrong
administrator token typed into the sign-in page counts for its client address as a
wrong password does. Failures
are rows (`models.LoginFailure`), so every replica counts the same. A wrong pair is told
apart from nothing: the same answer whether or not the account exists.

A sign-in link is valid for 15 minutes, once; only its SHA-256 is stored. It is recorded
as mail to send (server.notify.outbox), in the language of the user's member or else the
site's. Whoever reads mail that is not theirs (staff's mail lists, the demo's mailbox)
sees a sign-in link's token only for an account whose role ranks below their own, and
(for a reader bound to a site) that is a member's or bound to the reader's site
(`shown_to`): else anyone who may read the mail could become that account.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server.db import models
from server.errors import DomainError
from server.notify import outbox, texts
from server.people import accounts, audit
from server.people.sessions import MAX_VALUE, digest
from server.site import SiteConfig

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LINK_TTL = timedelta(minutes=15)
LINK_ROLES = frozenset({"admin", "staff", "member"})
# What a wrong administrator token is recorded under in place of an e-mail (no address
# has it: it has no @), counted per client address only.
TOKEN_ATTEMPT = "(administrator token)"
# Who outranks whom when reading another's sign-in link (anyone else: nobody's).
RANKS = {"member": 1, "staff": 2, "admin": 3}
REDACTED = "[hidden]"
_LINK_TOKEN = re.compile(r"(/auth/magic\?token=)([A-Za-z0-9_-]+)")


class TooManyAttempts(DomainError):
    """Too many failed sign-ins for this account or from this address."""

    status = 429


def authenticate(
    session: Session, *, email: str, password: str, client: str, now: datetime
) -> models.User | None:
    """The user whose e-mail and password these are, or None (the failure is recorded,
    and audited).
    TooManyAttempts, before any check, when the limits are reached."""
    address = accounts.normal_email(email)[:254]
    client = client[:64]
    if _over_limit(session, address=address, client=client, now=now):
        raise TooManyAttempts("too many failed sign-ins; try again in 15 minutes")
    user = accounts.find_by_email(session, address)
    if accounts.verify_password(user, password):
        assert user is not None
        user.last_login_at = now
        return user
    _failed(session, address=address, client=client, now=now, detail={"email": address})
    return None


def admin_token_attempt(session: Session, *, valid: bool, client: str, now: datetime) -> bool:
    """Whether a sign-in with the administrator token (`valid`: the token given was it)
    may go on, counted as a password is, per client address only (so nobody locks the
    token out for everyone): a wrong token is recorded (and audited) as a failed sign-in.
    TooManyAttempts, whatever the token, when the address has reached the limits."""
    client = client[:64]
    if _over_limit(session, address=None, client=client, now=now):
        raise TooManyAttempts("too many failed sign-ins; try again in 15 minutes")
    if not valid:
        _failed(session, address=TOKEN_ATTEMPT, client=client, now=now, detail={"how": "token"})
    return valid


def _failed(
    session: Session, *, address: str, client: str, now: datetime, detail: dict[str, str]
) -> None:
    session.add(models.LoginFailure(email=address, client=client, at=now))
    audit.record(
        session,
        actor="anonymous",
        action="auth.sign_in_failed",
        target=None,
        detail={**detail, "client": client},
        now=now,
    )


def _over_limit(session: Session, *, address: str | None, client: str, now: datetime) -> bool:
    since = now - WINDOW
    counted = [(models.LoginFailure.client, client)]
    if address is not None:
        counted.insert(0, (models.LoginFailure.email, address))
    for column, value in counted:
        count = session.scalar(
            select(func.count())
            .select_from(models.LoginFailure)
            .where(column == value, models.LoginFailure.at > since)
        )
        if (count or 0) >= MAX_FAILURES:
            return True
    return False


def forget_failures(session: Session, *, now: datetime) -> None:
    """Delete the failed sign-ins the limits no longer count (older than their window);
    the daily purge calls it."""
    session.execute(delete(models.LoginFailure).where(models.LoginFailure.at <= now - WINDOW))


def send_link(
    session: Session, *, email: str, site: SiteConfig, base_url: str, now: datetime
) -> models.Mail | None:
    """For an active account with this e-mail, a one-time sign-in link, recorded as mail
    to send; None (and nothing recorded) for any other address."""
    user = accounts.find_by_email(session, email)
    if user is None or user.role not in LINK_ROLES:
        return None
    secret = secrets.token_urlsafe(32)
    session.add(
        models.SignInLink(
            user_id=user.id, token_hash=digest(secret), created_at=now, expires_at=now + LINK_TTL
        )
    )
    member = session.get(models.Member, user.member_id) if user.member_id else None
    lang = texts.pick(member.lang if member is not None else site.site.language)
    link = f"{base_url.rstrip('/')}/auth/magic?token={secret}"
    minutes = int(LINK_TTL.total_seconds() // 60)
    mail = outbox.queue(
        session,
        to=user.email,
        kind="sign_in",
        lang=lang,
        subject=texts.text(lang, "mail.sign_in.subject", site=site.site.name),
        body=texts.text(lang, "mail.sign_in.body", name=user.name, link=link, minutes=minutes),
        member_id=user.member_id,
        now=now,
    )
    audit.record(
        session,
        actor="anonymous",
        action="auth.link_sent",
        target=str(user.id),
        detail={"mail_id": mail.id},
        now=now,
    )
    return mail


def redeem_link(session: Session, *, secret: str, now: datetime) -> models.User | None:
    """The user a sign-in link is for, once: used, expired or unknown links give None."""
    if not secret or len(secret) > MAX_VALUE:
        return None
    link = session.scalar(
        select(models.SignInLink).where(models.SignInLink.token_hash == digest(secret))
    )
    if link is None or link.used_at is not None or now >= link.expires_at:
        return None
    link.used_at = now
    user = accounts.active_user(session, link.user_id)
    if user is not None:
        user.last_login_at = now
    return user


def shown_to(session: Session, *, viewer: accounts.Manager, texts: Sequence[str]) -> list[str]:
    """`texts` (mail bodies, HTML) as this viewer may read them: the token of a sign-in
    link is kept only when the link's account has a role strictly below the viewer's (an
    administrator reads staff's and members' links, staff members'; nobody an
    administrator's) and the viewer manages it (accounts.manages: a viewer bound to a site
    not the links of staff bound to another site or to none); any other token, unknown
    ones included, becomes `[hidden]`."""
    tokens = {token for text in texts for _, token in _LINK_TOKEN.findall(text)}
    if not tokens:
        return list(texts)
    L, U = models.SignInLink, models.User
    found = session.execute(
        select(L.token_hash, U.role, U.site_id)
        .join(U, U.id == L.user_id)
        .where(L.token_hash.in_([digest(t) for t in tokens]))
    )
    owners = {token_hash: (role, site_id) for token_hash, role, site_id in found}
    rank = RANKS.get(viewer.role, 0)

    def readable(role: str, site_id: str | None) -> bool:
        below = RANKS.get(role, len(RANKS) + 1) < rank
        return below and accounts.manages(viewer, role, site_id)

    def shown(link: re.Match[str]) -> str:
        owner = owners.get(digest(link.group(2)))
        if owner is not None and readable(*owner):
            return link.group(0)
        return link.group(1) + REDACTED

    return [_LINK_TOKEN.sub(shown, text) for text in texts]
