"""Browser sessions of the staff dashboard: a signed, expiring value in an HttpOnly cookie.

`GET /login?token=...` with the administrator's token issues one. The value is
`<expires>.<nonce>.<signature>`, signed with a key derived from the administrator token, so
it survives a restart and is valid on every replica, and changing the token signs everybody
out. Signing out revokes the value in this process's memory until it would have expired.

>>> sessions = Sessions("admin-token")
>>> value = sessions.issue(now)                      # doctest: +SKIP
>>> sessions.valid(value, now)                       # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import UTC, datetime, timedelta

COOKIE = "spacehub_session"
TTL = timedelta(hours=12)  # a receptionist's working day; then sign in again
MAX_VALUE = 200  # longer cookie values are not ours: refused before any work


class Sessions:
    """Issues, checks and revokes dashboard sessions; no sessions without an admin token."""

    def __init__(self, admin_token: str | None, *, ttl: timedelta = TTL) -> None:
        self.ttl = ttl
        self._key = (
            hmac.new(admin_token.encode(), b"spacehub dashboard session v1", "sha256").digest()
            if admin_token
            else None
        )
        self._revoked: dict[str, datetime] = {}  # nonce -> when it would have expired
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def issue(self, now: datetime) -> str:
        """A new session value, valid for `ttl` from `now`."""
        if self._key is None:
            raise RuntimeError("sessions need an administrator token")
        expires = int((now + self.ttl).timestamp())
        payload = f"{expires}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._sign(payload)}"

    def valid(self, value: str | None, now: datetime) -> bool:
        """True for a value this server signed that has neither expired nor been revoked."""
        parsed = self._parse(value)
        if parsed is None:
            return False
        expires, nonce = parsed
        if now >= expires:
            return False
        with self._lock:
            return nonce not in self._revoked

    def revoke(self, value: str | None, now: datetime) -> None:
        """Sign a session out (in this process); expired revocations are forgotten."""
        parsed = self._parse(value)
        with self._lock:
            self._revoked = {n: e for n, e in self._revoked.items() if e > now}
            if parsed is not None:
                expires, nonce = parsed
                self._revoked[nonce] = expires

    def _sign(self, payload: str) -> str:
        assert self._key is not None
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def _parse(self, value: str | None) -> tuple[datetime, str] | None:
        if self._key is None or not value or len(value) > MAX_VALUE:
            return None
        payload, _, signature = value.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        stamp, _, nonce = payload.partition(".")
        try:
            expires = datetime.fromtimestamp(int(stamp), UTC)
        except (ValueError, OverflowError, OSError):
            return None
        return expires, nonce
