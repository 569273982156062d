"""The domain's refusals. Domain services raise them; `create_app` maps each to its HTTP
status, so routes never translate errors themselves."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; the message says why."""

    status = 400


class NotFound(DomainError):
    """No such member, card, booking, room or offer."""

    status = 404


class Forbidden(DomainError):
    """Known and valid, but not allowed now (e.g. booking while suspended for no-shows)."""

    status = 403


class Conflict(DomainError):
    """The change clashes with what is stored (a registered card, an overlapping booking)."""

    status = 409


class Invalid(DomainError):
    """Input that is well-formed but not acceptable (an unknown plan, a bad UID)."""

    status = 422


class Rejected(Exception):
    """A message from a device that can never be applied (a Result for a tap that device
    never sent, a tap from another boot): counted, logged and acknowledged, never retried.
    `reason` names it in the counters."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


class NotYet(Rejected):
    """A message that may apply once an earlier one has (a Result whose tap has not been
    recorded yet): tried again for a while, then rejected with `reason`."""
