"""Time in UTC, one way for the whole service.

The store writes UTC, but SQLite hands datetimes back naive even for ``timezone=True`` columns, and CKAN and HTTP
dates may come without a zone: a naive value is read as UTC. Two readings exist on purpose: :func:`assume_utc`
keeps an aware value's own zone (what is displayed keeps its offset), :func:`to_utc` also converts it to UTC (what
is compared or stored).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


@overload
def assume_utc(value: datetime) -> datetime: ...
@overload
def assume_utc(value: None) -> None: ...
def assume_utc(value: datetime | None) -> datetime | None:
    """A naive value is UTC; an aware one is returned as it is."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@overload
def to_utc(value: datetime) -> datetime: ...
@overload
def to_utc(value: None) -> None: ...
def to_utc(value: datetime | None) -> datetime | None:
    """A naive value is UTC; an aware one is converted to UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
