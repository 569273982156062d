"""Signed links in e-mails: one click to cancel a booking, one to accept a waitlist offer.

A link's token says what it is for (`cancel`, `accept`), on what (the booking's or the
offer's id) and until when, and carries an HMAC-SHA256 of those over a server key, so it
cannot be made, changed or used for anything else. Nothing is stored: a token is checked
by its signature, and its effect once (a booking cancelled is no longer `booked`).

    key = link_key(ctx.card_key)
    token = sign(key, purpose="cancel", subject=42, expires=booking.start)
    verify(key, token, purpose="cancel", now=now)   # 42, or BadLink / ExpiredLink

The key is derived from the card key with a label of its own (the card key hashes card
UIDs; this one signs links), so every replica that shares the card key checks the links
of every other."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Literal

from server.errors import DomainError

Purpose = Literal["cancel", "accept"]
PURPOSES: tuple[Purpose, ...] = ("cancel", "accept")
LABEL = b"spacehub mail links v1"
MAX_TOKEN = 200


class BadLink(DomainError):
    """A token that is not one of ours: malformed, tampered with, or for another purpose."""

    status = 400


class ExpiredLink(DomainError):
    """A genuine token past its time (the booking has begun, the offer lapsed)."""

    status = 410


def link_key(card_key: str) -> bytes:
    """The links' signing key, derived from the server's card key."""
    return hmac.new(card_key.encode(), LABEL, hashlib.sha256).digest()


def sign(key: bytes, *, purpose: Purpose, subject: int, expires: datetime) -> str:
    """A token for `purpose` on `subject`, good until `expires`."""
    payload = f"{purpose}.{subject}.{int(expires.timestamp())}"
    return f"{_b64(payload.encode())}.{_b64(_mac(key, payload))}"


def verify(key: bytes, token: str, *, purpose: Purpose, now: datetime) -> int:
    """The subject of a genuine, unexpired token for `purpose`; BadLink or ExpiredLink."""
    if not token or len(token) > MAX_TOKEN or token.count(".") != 1:
        raise BadLink("this link is not valid")
    body, mac = token.split(".")
    try:
        payload = _unb64(body).decode("ascii")
        given = _unb64(mac)
    except (binascii.Error, ValueError):
        raise BadLink("this link is not valid") from None
    if not hmac.compare_digest(given, _mac(key, payload)):
        raise BadLink("this link is not valid")
    meant, subject, until = payload.split(".")  # ours, so well formed
    if meant != purpose:
        raise BadLink("this link is for something else")
    if now >= datetime.fromtimestamp(int(until), UTC):
        raise ExpiredLink("this link has expired")
    return int(subject)


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
