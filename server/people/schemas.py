"""Request and response bodies of the members API: members, cards and memberships."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from protocol.policy import Category
from server.db import models
from server.schemas import Body, Email, Id, Label, Name
from server.site import Language
from server.timefmt import RequestTime, ResponseTime


class MemberCreate(Body):
    name: Name
    email: Email | None = None
    category: Category
    lang: Language | None = None  # what the member is told in; the site's language if not given
    # Under 18: a guardian's name and the time of their consent are required (422 without).
    minor: bool = False
    guardian_name: Name | None = None
    guardian_consent_at: RequestTime | None = None


class MemberPatch(Body):
    """Only the fields given change; `null` clears e-mail and suspension."""

    name: Name | None = None
    email: Email | None = None
    category: Category | None = None
    suspended_until: RequestTime | None = None
    lang: Language | None = None
    minor: bool | None = None
    guardian_name: Name | None = None
    guardian_consent_at: RequestTime | None = None

    def changes(self) -> dict[str, object]:
        return {field: getattr(self, field) for field in self.model_fields_set}


class MemberOut(BaseModel):
    id: int
    name: str
    email: str | None
    category: str
    lang: str
    suspended_until: ResponseTime | None
    booking_suspended_until: ResponseTime | None  # after too many no-shows
    minor: bool
    guardian_name: str | None
    guardian_consent_at: ResponseTime | None
    erased_at: ResponseTime | None  # GDPR erasure: the name is then `#<id>`, nothing else kept
    created_at: ResponseTime

    @classmethod
    def of(cls, member: models.Member) -> MemberOut:
        return cls(
            id=member.id,
            name=member.name,
            email=member.email,
            category=member.category,
            lang=member.lang,
            suspended_until=member.suspended_until,
            booking_suspended_until=member.booking_suspended_until,
            minor=member.minor,
            guardian_name=member.guardian_name,
            guardian_consent_at=member.guardian_consent_at,
            erased_at=member.erased_at,
            created_at=member.created_at,
        )


class CardCreate(Body):
    # Any spelling normalise_uid takes ("04:a1:b2:c3", "0x04A1B2C3"); checked by the domain.
    uid: Annotated[str, Field(min_length=1, max_length=64)]
    label: Label | None = None


class CardOut(BaseModel):
    """A card as the API shows it: never its UID nor its hash."""

    id: int
    member_id: int
    label: str | None
    active: bool
    created_at: ResponseTime
    revoked_at: ResponseTime | None

    @classmethod
    def of(cls, card: models.Card) -> CardOut:
        return cls(
            id=card.id,
            member_id=card.member_id,
            label=card.label,
            active=card.active,
            created_at=card.created_at,
            revoked_at=card.revoked_at,
        )


class MembershipCreate(Body):
    member_id: Id
    plan: Annotated[str, Field(min_length=1, max_length=64)]
    valid_from: RequestTime
    valid_until: RequestTime


class MembershipOut(BaseModel):
    id: int
    member_id: int
    site: str  # whose plan it is
    plan: str
    valid_from: ResponseTime
    valid_until: ResponseTime
    created_at: ResponseTime

    @classmethod
    def of(cls, membership: models.Membership) -> MembershipOut:
        return cls(
            id=membership.id,
            member_id=membership.member_id,
            site=membership.site_id,
            plan=membership.plan,
            valid_from=membership.valid_from,
            valid_until=membership.valid_until,
            created_at=membership.created_at,
        )
