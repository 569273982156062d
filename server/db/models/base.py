"""Column types, the declarative base and the one `meta` row."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    String,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def new_salt() -> str:
    """A door's emergency-list salt: 32 random hex digits."""
    return secrets.token_hex(16)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class Meta(Base):
    """One row: the database's epoch id and the policy version `n` (PolicyNotice)."""

    __tablename__ = "meta"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[str] = mapped_column(String(64))
    policy_n: Mapped[int] = mapped_column(default=0)
    # The counter `n` of the DoorModes and EmergencyLists the server publishes
    # (docs/protocol.md, "Commands in time").
    command_n: Mapped[int] = mapped_column(BigInteger, default=0)
