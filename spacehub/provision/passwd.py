"""Mosquitto 2's password file, written without `mosquitto_passwd`.

A line is `username:$7$<iterations>$<base64 salt>$<base64 hash>`: PBKDF2-HMAC-SHA512 over
the password with a 12-byte random salt and 101 iterations, base64 with padding, as
`mosquitto_passwd` writes it (Mosquitto's `common/password_mosq.c`, hash type `$7$`).

>>> line = passwd_line("piaseczno.reader-main", "s3cret")
>>> line.startswith("piaseczno.reader-main:$7$101$")
True
>>> verify(line.split(":", 1)[1], "s3cret"), verify(line.split(":", 1)[1], "wrong")
(True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

ITERATIONS = 101  # what mosquitto_passwd uses; the broker reads the count from each line
SALT_BYTES = 12


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """`$7$101$<salt>$<hash>` for `password`, with a new random salt unless one is given."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${_b64(salt)}${_b64(digest)}"


def verify(hashed: str, password: str) -> bool:
    """Whether `hashed` (a `$7$` hash as above) is the hash of `password`."""
    try:
        _, kind, iterations, salt, digest = hashed.strip().split("$")
        if kind != "7":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.pbkdf2_hmac(
            "sha512",
            password.encode("utf-8"),
            base64.b64decode(salt, validate=True),
            int(iterations),
        )
    except ValueError:  # not five fields, bad base64, a count that is not a number
        return False
    return hmac.compare_digest(expected, actual)


def passwd_line(username: str, password: str) -> str:
    """One line of the password file (without the newline)."""
    if ":" in username or "\n" in username:
        raise ValueError(f"an MQTT username may not contain ':' or a newline: {username!r}")
    return f"{username}:{hash_password(password)}"


def read_hashes(path: Path) -> dict[str, str]:
    """username -> hash of an existing password file; empty when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    hashes: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and ":" in line:
            user, hashed = line.split(":", 1)
            hashes[user] = hashed
    return hashes


def passwd_text(passwords: dict[str, str], previous: dict[str, str]) -> str:
    """The password file for `passwords` (username -> password). A user whose previous
    hash still matches keeps it, so running provision again leaves the file as it was."""
    lines = []
    for user, password in passwords.items():
        old = previous.get(user)
        if old is not None and verify(old, password):
            lines.append(f"{user}:{old}")
        else:
            lines.append(passwd_line(user, password))
    return "\n".join(lines) + "\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
