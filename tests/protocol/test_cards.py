"""Card UIDs in canonical form, the readers' formats that lead to it, and its hashes."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from protocol.cards import (
    CardError,
    card_hash,
    emergency_hash,
    normalise_uid,
    parse_em4100_frame,
    uid_from_decimal,
)
from protocol.messages import EmergencyList, utcnow

UID = "04A1B2C3"


# -- normalise_uid ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "04A1B2C3",
        "04a1b2c3",
        "04:A1:B2:C3",
        "04:a1:b2:c3",
        "04-a1-b2-c3",
        "04 A1 B2 C3",
        "  04a1b2c3\n",
        "0x04a1b2c3",
        "0X04A1B2C3",
        "0x04:a1:b2:c3",
    ],
)
def test_normalise_hex_spellings(raw: str) -> None:
    assert normalise_uid(raw) == UID


@pytest.mark.parametrize("raw", ["c3:b2:a1:04", "C3B2A104", "c3 b2 a1 04"])
def test_normalise_reversed_byte_order(raw: str) -> None:
    assert normalise_uid(raw, reverse=True) == UID
    assert normalise_uid(raw) == "C3B2A104"  # not reversed unless asked


def test_normalise_raw_bytes() -> None:
    assert normalise_uid(b"\x04\xa1\xb2\xc3") == UID
    assert normalise_uid(bytearray(b"\x04\xa1\xb2\xc3")) == UID
    assert normalise_uid(b"\xc3\xb2\xa1\x04", reverse=True) == UID


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("04:11:22:33:44:55:66", "04112233445566"),  # 7-byte ISO 14443 UID
        ("0a1b2c3d4e", "0A1B2C3D4E"),  # EM4100: 5 bytes
        ("01" * 10, "01" * 10),  # 20 digits: the longest
        ("00000000", "00000000"),  # 8 digits: the shortest
    ],
)
def test_normalise_lengths_accepted(raw: str, canonical: str) -> None:
    assert normalise_uid(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0x",
        "04A1B2",  # 6 digits, too short
        "04:A1:B2",
        "01" * 11,  # 22 digits, too long
        "04A1B2C",  # odd
        "04A1B2C3D",  # odd
        "04A1B2CG",  # not hex
        "04A1B2C3;",
        "g4a1b2c3",
        "٠٤A1B2C3",  # Arabic-Indic digits are not hex
        "04_A1_B2_C3",
    ],
)
def test_normalise_rejects(raw: str) -> None:
    with pytest.raises(CardError):
        normalise_uid(raw)


@pytest.mark.parametrize("raw", [b"\x04\xa1\xb2", b"", b"\x01" * 11])
def test_normalise_rejects_raw_bytes_of_wrong_length(raw: bytes) -> None:
    with pytest.raises(CardError):
        normalise_uid(raw)


def test_normalise_rejects_other_types() -> None:
    with pytest.raises(CardError):
        normalise_uid(77705923)  # type: ignore[arg-type]


def test_card_error_is_a_value_error() -> None:
    assert issubclass(CardError, ValueError)


# -- uid_from_decimal ---------------------------------------------------------------------


def test_decimal_of_a_4_byte_uid() -> None:
    assert 0xC3B2A104 == 3283263748
    assert uid_from_decimal("3283263748", nbytes=4) == "C3B2A104"
    assert uid_from_decimal("3283263748", nbytes=4, reverse=True) == UID


def test_decimal_keeps_leading_zero_bytes() -> None:
    assert 0x04A1B2C3 == 77705923
    assert uid_from_decimal("0077705923", nbytes=4) == UID
    assert uid_from_decimal("77705923", nbytes=4) == UID
    assert uid_from_decimal(" 0077705923\n", nbytes=4) == UID


def test_decimal_limits() -> None:
    assert uid_from_decimal("4294967295", nbytes=4) == "FFFFFFFF"
    assert uid_from_decimal("0", nbytes=4) == "00000000"
    with pytest.raises(CardError, match="fit"):
        uid_from_decimal("4294967296", nbytes=4)
    with pytest.raises(CardError, match="fit"):
        uid_from_decimal("99999999999", nbytes=4)


def test_decimal_of_an_em4100_id() -> None:
    assert uid_from_decimal(str(0x0A1B2C3D4E), nbytes=5) == "0A1B2C3D4E"


@pytest.mark.parametrize("text", ["", " ", "-1", "12a4", "1e5", "3283263748.0", "²", "٣٢٨"])
def test_decimal_rejects_non_digits(text: str) -> None:
    with pytest.raises(CardError):
        uid_from_decimal(text, nbytes=4)


# -- parse_em4100_frame -------------------------------------------------------------------


def _frame(data_hex: str, checksum: int | None = None) -> bytes:
    data = bytes.fromhex(data_hex)
    if checksum is None:
        checksum = 0
        for b in data:
            checksum ^= b
    return b"\x02" + data_hex.encode() + f"{checksum:02X}".encode() + b"\x03"


def test_em4100_valid_frame() -> None:
    frame = _frame("0A1B2C3D4E")
    assert frame == b"\x020A1B2C3D4E4E\x03"  # 0A^1B^2C^3D^4E == 4E
    assert parse_em4100_frame(frame) == "0A1B2C3D4E"


def test_em4100_real_reader_frame() -> None:
    # A frame as an RDM6300 sends it for card 62E3086CED (checksum 08 = XOR of the bytes)
    assert parse_em4100_frame(b"\x0262E3086CED08\x03") == "62E3086CED"


def test_em4100_lower_case_hex_accepted() -> None:
    assert parse_em4100_frame(_frame("0a1b2c3d4e")) == "0A1B2C3D4E"


@pytest.mark.parametrize("checksum", [0x00, 0x4F, 0xFF])
def test_em4100_bad_checksum(checksum: int) -> None:
    with pytest.raises(CardError, match="checksum"):
        parse_em4100_frame(_frame("0A1B2C3D4E", checksum))


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"0A1B2C3D4E4E",  # no STX/ETX
        b"\x030A1B2C3D4E4E\x02",  # swapped
        b"\x020A1B2C3D4E4E\x02",
        b"\x010A1B2C3D4E4E\x03",
        b"\x020A1B2C3D4E4E",  # no ETX
        b"\x020A1B2C3D4E4E\x03\x03",  # too long
        b"\x020A1B2C3D4E\x03",  # no checksum
        b"\x020A1B2C3D4G4E\x03",  # not hex
        # Each of these would pass a lax parse with a matching checksum:
        b"\x020A1B2C3D  00\x03",  # bytes.fromhex skips spaces: a 4-byte id, XOR 00
        b"\x020000000005+5\x03",  # int(..., 16) takes a sign
        b"\x020000000005 5\x03",  # ... and surrounding spaces
        b"\x020A1B2C3D4\xc3\xa9\x03",  # not ASCII
    ],
)
def test_em4100_bad_framing(frame: bytes) -> None:
    with pytest.raises(CardError):
        parse_em4100_frame(frame)


# -- hashes -----------------------------------------------------------------------------

KEY = b"test-key-not-secret"


def test_card_hash_is_hmac_sha256_of_the_canonical_uid() -> None:
    expected = hmac.new(KEY, b"04A1B2C3", hashlib.sha256).hexdigest()
    assert card_hash(KEY, UID) == expected
    assert re.fullmatch(r"[0-9a-f]{64}", expected)


def test_card_hash_is_stable() -> None:
    assert card_hash(KEY, UID) == card_hash(KEY, UID)
    # Pinned: a change here invalidates every card hash stored in a database or snapshot.
    assert card_hash("k", "04A1B2C3") == hmac.new(b"k", b"04A1B2C3", hashlib.sha256).hexdigest()


def test_card_hash_depends_on_the_key() -> None:
    assert card_hash(KEY, UID) != card_hash(b"another-key", UID)


def test_card_hash_str_and_bytes_key_agree() -> None:
    assert card_hash(KEY.decode(), UID) == card_hash(KEY, UID)


@pytest.mark.parametrize("spelling", ["04a1b2c3", "04:A1:B2:C3", "0x04-a1-b2-c3", " 04 a1 b2 c3 "])
def test_card_hash_same_for_every_spelling(spelling: str) -> None:
    assert card_hash(KEY, spelling) == card_hash(KEY, UID)


def test_card_hash_differs_between_cards() -> None:
    assert card_hash(KEY, UID) != card_hash(KEY, "04A1B2C4")


def test_card_hash_rejects_invalid_uid() -> None:
    with pytest.raises(CardError):
        card_hash(KEY, "nope")


def test_emergency_hash() -> None:
    salt = "9f86d081884c7d65"
    expected = hashlib.sha256(b"9f86d081884c7d65" + b"04A1B2C3").hexdigest()
    assert emergency_hash(salt, UID) == expected
    assert emergency_hash(salt, "04:a1:b2:c3") == expected
    assert emergency_hash("00112233", UID) != expected
    assert emergency_hash(salt, "04A1B2C4") != expected
    # What a door stores and compares must fit the EmergencyList it arrives in.
    EmergencyList(ts=utcnow(), salt=salt, cards=[expected])
    with pytest.raises(CardError):
        emergency_hash(salt, "04A1B2")
