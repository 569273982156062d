"""Card UIDs in their one canonical form, and the hashes that stand for them.

The canonical form is upper-case hexadecimal without separators, 8 to 20 digits (4 to 10
bytes): for ISO 14443 cards the UID bytes in anticollision order, for EM4100 the five ID
bytes. Reader drivers and the HTTP API both call `normalise_uid`.

>>> normalise_uid("04:a1:b2:c3")
'04A1B2C3'
>>> normalise_uid("c3 b2 a1 04", reverse=True)
'04A1B2C3'
>>> uid_from_decimal("3283263748", nbytes=4, reverse=True)
'04A1B2C3'
"""

from __future__ import annotations

import hashlib
import hmac
import re

_SEPARATORS = re.compile(r"[\s:\-.]")
_HEX = re.compile(r"^[0-9A-F]+$")
_FRAME_HEX = re.compile(rb"^[0-9A-Fa-f]{12}\Z")
MIN_DIGITS, MAX_DIGITS = 8, 20


class CardError(ValueError):
    """Not a card UID this system accepts."""


def normalise_uid(raw: str | bytes, *, reverse: bool = False) -> str:
    """Return the canonical form of a UID given as hex text (any case, `:`/`-`/space
    separators, optional 0x) or as raw bytes; `reverse` for readers that report the
    bytes least significant first."""
    if isinstance(raw, bytes | bytearray):
        data = bytes(raw)
    else:
        if not isinstance(raw, str):
            raise CardError("card UID must be text or bytes")
        text = _SEPARATORS.sub("", raw.strip()).upper()
        if text.startswith("0X"):
            text = text[2:]
        if not _HEX.match(text):
            raise CardError(f"card UID must be hexadecimal, got {raw!r}")
        if len(text) % 2:
            raise CardError(f"card UID must be whole bytes (an even number of digits), got {raw!r}")
        data = bytes.fromhex(text)
    if reverse:
        data = data[::-1]
    if not MIN_DIGITS <= len(data) * 2 <= MAX_DIGITS:
        raise CardError(
            f"card UID must have {MIN_DIGITS}-{MAX_DIGITS} hex digits, got {len(data) * 2}"
        )
    return data.hex().upper()


def uid_from_decimal(text: str, *, nbytes: int, reverse: bool = False) -> str:
    """Canonical UID from the decimal number a keyboard-wedge reader types (e.g. ten
    digits for a 4-byte UID)."""
    text = text.strip()
    # isdigit() alone takes "²" and other non-ASCII digits, which int() then refuses.
    if not (text.isascii() and text.isdigit()):
        raise CardError(f"expected decimal digits, got {text!r}")
    value = int(text)
    if value >= 1 << (8 * nbytes):
        raise CardError(f"{text} does not fit in {nbytes} bytes")
    return normalise_uid(value.to_bytes(nbytes, "big"), reverse=reverse)


def parse_em4100_frame(frame: bytes) -> str:
    """Canonical UID from one RDM6300-style frame: STX, 10 hex data digits, 2 hex checksum
    digits (XOR of the five data bytes), ETX."""
    if len(frame) != 14 or frame[0] != 0x02 or frame[-1] != 0x03:
        raise CardError("EM4100 frame must be STX + 12 hex digits + ETX")
    # Checked up front: bytes.fromhex skips spaces and int(..., 16) takes "+5" or " 5".
    if not _FRAME_HEX.match(frame[1:13]):
        raise CardError("EM4100 frame is not hexadecimal")
    data = bytes.fromhex(frame[1:11].decode("ascii"))
    checksum = int(frame[11:13].decode("ascii"), 16)
    x = 0
    for b in data:
        x ^= b
    if x != checksum:
        raise CardError("EM4100 frame checksum mismatch")
    return data.hex().upper()


def card_hash(key: bytes | str, uid: str) -> str:
    """The keyed hash (HMAC-SHA256, hex) that stands for a canonical UID wherever it is
    stored or sent in a policy snapshot."""
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, normalise_uid(uid).encode(), hashlib.sha256).hexdigest()


# The memory-hard hash of emergency lists: scrypt with N=4096, r=8, p=1 (4 MiB) takes
# about 10 ms on a current x86 core and well under 100 ms on a Raspberry Pi 3, so a door
# checks a tap at once, while trying every 4-byte UID against one door's salt costs over a
# year of CPU (against under a minute for a single SHA-256).
EMERGENCY_KDF = "scrypt:4096:8:1"


class KdfError(ValueError):
    """An emergency list names a hash function this program does not know."""


def emergency_hash(salt: str, uid: str, kdf: str | None = None) -> str:
    """The hex hash of a canonical card under a door's salt, as in an EmergencyList: plain
    SHA-256 of salt + card when `kdf` is None (lists of version 1), else the named
    memory-hard function, e.g. `scrypt:4096:8:1` (N, r, p; 32 bytes)."""
    card = normalise_uid(uid).encode()
    if kdf is None:
        return hashlib.sha256(salt.encode() + card).hexdigest()
    name, _, params = kdf.partition(":")
    try:
        n, r, p = (int(x) for x in params.split(":"))
    except ValueError:
        raise KdfError(f"unknown emergency hash {kdf!r}") from None
    if name != "scrypt" or not (2 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r * p <= 64):
        raise KdfError(f"unknown emergency hash {kdf!r}")
    return hashlib.scrypt(
        card, salt=salt.encode(), n=n, r=r, p=p, dklen=32, maxmem=256 * r * (n + p + 2)
    ).hex()
