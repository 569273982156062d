"""Members, their cards and memberships: the domain service behind the members API.

Plain functions over a Session; the caller owns the transaction. Every change that a door
decision depends on (category, suspension, cards, memberships) calls `bump`
(server.db.meta) in the same transaction. Card UIDs are kept only as
`card_hash(card_key, uid)` (and, for staff cards, as the doors' salted emergency hashes:
server.access.emergency)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from protocol.cards import CardError, card_hash, normalise_uid
from server.access import emergency
from server.db import models
from server.db.meta import bump
from server.errors import Conflict, Invalid, NotFound
from server.site import Language, SiteConfig

_Row = TypeVar("_Row", models.Member, models.Card, models.Membership)

# Fields of a member that a door decision depends on.
_POLICY_FIELDS = frozenset({"category", "suspended_until"})
_MEMBER_FIELDS = frozenset(
    {
        "name",
        "email",
        "category",
        "suspended_until",
        "lang",
        "minor",
        "guardian_name",
        "guardian_consent_at",
    }
)


class Refusal(Invalid):
    """Invalid input whose `key` names its words in the text catalogues (server.notify.
    texts), so a page can say it in the reader's language; the API says `message`."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class Clash(Conflict):
    """A Conflict with a `key`, as Refusal."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def create_member(
    session: Session,
    *,
    name: str,
    category: str,
    email: str | None = None,
    lang: Language | None = None,
    site: SiteConfig | None = None,
    minor: bool = False,
    guardian_name: str | None = None,
    guardian_consent_at: datetime | None = None,
) -> models.Member:
    """Add a member (no cards yet, so no door decision changes), told things in `lang`,
    else in the site's language (Polish when no site is given). A minor needs a guardian's
    name and the time of their consent."""
    member = models.Member(
        name=name,
        email=email,
        category=category,
        minor=minor,
        guardian_name=guardian_name,
        guardian_consent_at=guardian_consent_at,
    )
    _check_guardian(member)
    if lang is not None:
        member.lang = lang
    elif site is not None:
        member.lang = site.site.language
    session.add(member)
    session.flush()
    return member


def get_member(session: Session, *, member_id: int) -> models.Member:
    """The member, or NotFound."""
    return _get(session, models.Member, member_id, "member")


def _get(session: Session, model: type[_Row], row_id: int, what: str) -> _Row:
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row


def list_members(
    session: Session,
    *,
    category: str | None = None,
    query: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[models.Member]:
    """Members by id; `query` matches a part of the name or e-mail, in any case."""
    stmt = select(models.Member).order_by(models.Member.id).limit(limit).offset(offset)
    if category is not None:
        stmt = stmt.where(models.Member.category == category)
    if query:
        pattern = f"%{_escape_like(query.lower())}%"
        stmt = stmt.where(
            or_(
                func.lower(models.Member.name).like(pattern, escape="\\"),
                func.lower(models.Member.email).like(pattern, escape="\\"),
            )
        )
    return list(session.scalars(stmt))


def update_member(session: Session, *, member_id: int, changes: dict[str, Any]) -> models.Member:
    """Apply `changes` (any of name, email, category, suspended_until, lang, minor,
    guardian_name, guardian_consent_at; None clears the nullable ones); bumps the policy
    when category or suspension changed. An erased member changes no more (Conflict)."""
    unknown = set(changes) - _MEMBER_FIELDS
    if unknown:
        raise Invalid(f"cannot change {', '.join(sorted(unknown))}")
    for field in ("name", "category", "lang", "minor"):
        if field in changes and changes[field] is None:
            raise Invalid(f"{field} cannot be null")
    member = get_member(session, member_id=member_id)
    _not_erased(member)
    changed = {k for k, v in changes.items() if getattr(member, k) != v}
    for field in changed:
        setattr(member, field, changes[field])
    _check_guardian(member)
    if "category" in changed and member.category != emergency.STAFF:
        emergency.forget_member(session, member_id=member.id)
    if changed & _POLICY_FIELDS:
        bump(session)
    session.flush()
    return member


def change_action(changes: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """How a change of a member is audited: `member.suspend` when it sets or lifts the
    suspension, else `member.update`; the detail names the fields (never their values,
    personal data, but the suspension's end)."""
    detail: dict[str, Any] = {"fields": sorted(changes)}
    if "suspended_until" not in changes:
        return "member.update", detail
    until = changes["suspended_until"]
    detail["suspended_until"] = until.isoformat() if until is not None else None
    return "member.suspend", detail


def add_card(
    session: Session, *, card_key: str, member_id: int, uid: str, label: str | None = None
) -> models.Card:
    """Register a card for a member, by the keyed hash of its canonical UID.

    An active card with the same UID, whoever holds it, is a Conflict. A revoked card is
    reissued: the same record becomes active again, now held by `member_id` (cards are
    handed out again after being returned or found)."""
    try:
        uid = normalise_uid(uid)
    except CardError:
        # Not CardError's message: it quotes what was given, and a UID is never echoed.
        raise Refusal(
            "error.card_uid", "uid must be a card UID: 8-20 hexadecimal digits, whole bytes"
        ) from None
    card = add_card_by_hash(
        session, member_id=member_id, uid_hash=card_hash(card_key, uid), label=label
    )
    # The UID is in hand now and is never stored: a staff card's emergency hashes are
    # made from it here.
    emergency.card_registered(session, card=card, uid=uid)
    return card


def add_card_by_hash(
    session: Session, *, member_id: int, uid_hash: str, label: str | None = None
) -> models.Card:
    """Register a card known only by its keyed hash (a card just tapped at a reader:
    server.access.unknown_cards), as `add_card` does. A staff card's emergency hashes
    follow at its next tap, when its UID is in hand (server.access.service)."""
    _not_erased(get_member(session, member_id=member_id))
    card = session.scalars(select(models.Card).where(models.Card.uid_hash == uid_hash)).first()
    if card is not None and card.active:
        raise Clash("error.card_taken", "card already registered")
    if card is None:
        card = models.Card(member_id=member_id, uid_hash=uid_hash, label=label, active=True)
        session.add(card)
    else:
        card.member_id = member_id
        card.label = label
        card.active = True
        card.revoked_at = None
    try:
        session.flush()
    except IntegrityError:
        # Another transaction registered the same card first (possible on PostgreSQL).
        raise Clash("error.card_taken", "card already registered") from None
    bump(session)
    return card


def list_cards(session: Session, *, member_id: int) -> list[models.Card]:
    """A member's cards, active and revoked, oldest first."""
    get_member(session, member_id=member_id)
    stmt = select(models.Card).where(models.Card.member_id == member_id).order_by(models.Card.id)
    return list(session.scalars(stmt))


def get_card(session: Session, *, card_id: int) -> models.Card:
    """The card, or NotFound."""
    return _get(session, models.Card, card_id, "card")


def revoke_card(session: Session, *, card_id: int, now: datetime) -> models.Card:
    """Revoke a card: it stops opening doors at once. Revoking it again changes nothing."""
    card = get_card(session, card_id=card_id)
    if card.active:
        card.active = False
        card.revoked_at = now
        emergency.forget_card(session, card_id=card.id)
        bump(session)
        session.flush()
    return card


def add_membership(
    session: Session,
    *,
    site: SiteConfig,
    member_id: int,
    plan: str,
    valid_from: datetime,
    valid_until: datetime,
) -> models.Membership:
    """Give a member a plan of the site for [valid_from, valid_until)."""
    _check_membership(site, plan=plan, valid_from=valid_from, valid_until=valid_until)
    member = session.get(models.Member, member_id)
    if member is None:
        raise Invalid(f"member {member_id} does not exist")
    _not_erased(member)
    membership = models.Membership(
        member_id=member_id,
        site_id=site.id,
        plan=plan,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    session.add(membership)
    session.flush()
    bump(session)
    return membership


def get_membership(session: Session, *, membership_id: int) -> models.Membership:
    """The membership, or NotFound."""
    return _get(session, models.Membership, membership_id, "membership")


def update_membership(
    session: Session,
    *,
    site: SiteConfig,
    membership_id: int,
    plan: str,
    valid_from: datetime,
    valid_until: datetime,
) -> models.Membership:
    """Change a membership's plan and dates (checked as `add_membership` does); one of
    another site's plans is changed at that site."""
    membership = _own_membership(session, site=site, membership_id=membership_id)
    _check_membership(site, plan=plan, valid_from=valid_from, valid_until=valid_until)
    membership.plan = plan
    membership.valid_from = valid_from
    membership.valid_until = valid_until
    session.flush()
    bump(session)
    return membership


def delete_membership(
    session: Session, *, site: SiteConfig, membership_id: int
) -> models.Membership:
    """Delete a membership (it stops opening doors at once); the deleted membership. One
    of another site's plans is deleted at that site."""
    membership = _own_membership(session, site=site, membership_id=membership_id)
    session.delete(membership)
    session.flush()
    bump(session)
    return membership


def _own_membership(session: Session, *, site: SiteConfig, membership_id: int) -> models.Membership:
    """The membership, if it is of the site's plans: NotFound, or Refusal for another
    site's (changed or deleted at that site only)."""
    membership = get_membership(session, membership_id=membership_id)
    if membership.site_id != site.id:
        raise Refusal(
            "error.membership_other_site",
            f"membership {membership_id} is of site {membership.site_id!r}'s plans: "
            "change it there",
        )
    return membership


def _check_membership(
    site: SiteConfig, *, plan: str, valid_from: datetime, valid_until: datetime
) -> None:
    if site.plan(plan) is None:
        known = ", ".join(p.id for p in site.plans) or "none"
        raise Refusal("error.plan_unknown", f"unknown plan {plan!r} (plans of this site: {known})")
    if valid_until <= valid_from:
        raise Refusal("error.end_before_start", "valid_until must be after valid_from")


def _check_guardian(member: models.Member) -> None:
    """A minor's data is held with a guardian's consent: who gave it, and when."""
    if member.minor and (not member.guardian_name or member.guardian_consent_at is None):
        raise Refusal(
            "error.guardian_needed",
            "a minor needs guardian_name and guardian_consent_at (the guardian's consent)",
        )


def _not_erased(member: models.Member) -> None:
    if member.erased_at is not None:
        raise Clash("error.member_erased", f"member {member.id} has been erased")


def list_memberships(session: Session, *, member_id: int) -> list[models.Membership]:
    """A member's memberships, past, present and future, by start."""
    get_member(session, member_id=member_id)
    stmt = (
        select(models.Membership)
        .where(models.Membership.member_id == member_id)
        .order_by(models.Membership.valid_from, models.Membership.id)
    )
    return list(session.scalars(stmt))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
