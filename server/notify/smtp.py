"""Where mail goes (`SPACEHUB_SMTP_URL`) and handing one message to it, with the standard
library's smtplib.

    target = smtp_target("smtp+starttls://hub:secret@mail.example.org:587")
    deliver(target, message)

| URL | connection |
| --- | --- |
| `smtp://host:port` | plain SMTP (a relay on the same machine or network; port 25) |
| `smtp+starttls://user:password@host:587` | SMTP upgraded with STARTTLS, then login |
| `smtps://user:password@host:465` | SMTP over TLS from the first byte, then login |

A user name and password in the URL are percent-decoded (`%40` for an `@`)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal
from urllib.parse import unquote, urlsplit

Security = Literal["plain", "starttls", "tls"]
SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SmtpTarget:
    """An SMTP server and how to talk to it; the password never shows in a repr."""

    security: Security
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def smtp_target(url: str) -> SmtpTarget:
    """The SMTP server a `SPACEHUB_SMTP_URL` names; ValueError saying what is wrong."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise ValueError(f"an SMTP URL starts with {known} (got {url.split(':')[0]!r})")
    security, default_port = SCHEMES[scheme]
    if not parts.hostname:
        raise ValueError(f"an SMTP URL names a host: {scheme}://host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("an SMTP URL has no path, query or fragment: scheme://user:pass@host:port")
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("the SMTP URL's port is not a number from 1 to 65535") from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ValueError("an SMTP URL with a password names its user too")
    return SmtpTarget(security, parts.hostname, port, username, password)


def deliver(target: SmtpTarget, message: EmailMessage, *, timeout: float = TIMEOUT_S) -> None:
    """Hand `message` to the server: its envelope from the `From` header, to the `To`
    header. smtplib's errors (and OSError for a server down) reach the caller."""
    client: smtplib.SMTP
    if target.security == "tls":
        context = ssl.create_default_context()
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout)
    with client:
        if target.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if target.username:
            client.login(target.username, target.password or "")
        client.send_message(message)
