"""Time in UTC, one way for the whole service.

The store writes UTC, but SQLite hands datetimes back naive even for ``timezone=True`` columns, and CKAN and HTTP
dates may come without a zone: a naive value is read as UTC. Two readings exist on purpose: :func:`assume_utc`
keeps an aware value's own zone (what is displayed keeps its offset), :func:`to_utc` also converts it to UTC (what
is compared or stored).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import overload
from zoneinfo import ZoneInfo


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


def local_day(value: datetime, timezone: str) -> date:
    """The calendar day of ``value`` (naive = UTC) in ``timezone``: a run at 01:00 UTC on 7 December read the portal
    on the 6th in Mexico City. The reports, the exports, the indicator and the alerts all date a run this way."""
    return assume_utc(value).astimezone(ZoneInfo(timezone)).date()


@overload
def to_utc(value: datetime) -> datetime: ...
@overload
def to_utc(value: None) -> None: ...
def to_utc(value: datetime | None) -> datetime | None:
    """A naive value is UTC; an aware one is converted to UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
