"""French formatting of numbers and dates for everything the user reads."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
NBSP = "\u202f"  # narrow no-break space, the French thousands separator


def number(value: float | int | None, decimals: int = 0, unknown: str = "n.d.") -> str:
    """``22926`` → ``22 926``; ``7.2`` with 1 decimal → ``7,2``; None → ``n.d.`` (never 0)."""
    if value is None:
        return unknown
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NBSP).replace(".", ",")


def per_thousand(value: float | None, decimals: int = 1) -> str:
    return "n.d." if value is None else f"{number(value, decimals)} ‰"


def day(value: date | datetime | None) -> str:
    return "" if value is None else value.strftime("%d/%m/%Y")


def moment(value: datetime | None) -> str:
    """Local (Paris) time: the database keeps UTC, people read the time of their wall clock."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(PARIS)
    return value.strftime("%d/%m/%Y %H:%M")
