"""The database: SQLAlchemy 2.0 typed models, one module a domain. Alembic migrations in
server/db/migrations. Import them from here: `from server.db import models; models.Booking`."""

from server.db.models.accounts import (
    ApiToken,
    AuthSession,
    LoginFailure,
    Mail,
    SignInLink,
    User,
)
from server.db.models.base import Base, Meta, UtcDateTime, new_salt
from server.db.models.bookings import (
    Booking,
    BookingAttendee,
    NoShow,
    Notification,
    Offer,
    WaitlistEntry,
)
from server.db.models.events import AccessEvent, Alert, DeadLetter, DeviceEvent, RoomState
from server.db.models.people import AuditEntry, Card, EmergencyHash, Member, Membership
from server.db.models.site import Device, Door, Plan, Room, Site

__all__ = [
    "UtcDateTime",
    "new_salt",
    "Base",
    "Meta",
    "Site",
    "Room",
    "Door",
    "Device",
    "Plan",
    "Member",
    "Card",
    "EmergencyHash",
    "Membership",
    "AuditEntry",
    "Booking",
    "BookingAttendee",
    "NoShow",
    "Notification",
    "WaitlistEntry",
    "Offer",
    "AccessEvent",
    "DeviceEvent",
    "RoomState",
    "Alert",
    "DeadLetter",
    "User",
    "AuthSession",
    "ApiToken",
    "SignInLink",
    "LoginFailure",
    "Mail",
]
