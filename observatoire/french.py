"""Numbers and dates as French readers write them, for every page, table, message and export.

Thousands are separated by a narrow no-break space (``22 926``), decimals by a comma (``7,2``); a rate per
thousand reads ``7,2 ‰``, a percentage ``12,5 %``; dates ``jj/mm/aaaa``, moments in Paris time. An unknown
value (None, NaN) reads ``n.d.``: it is never written as 0.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from numbers import Real
from typing import Any
from zoneinfo import ZoneInfo

THOUSANDS = "\u202f"  # narrow no-break space
UNKNOWN = "n.d."
PARIS = ZoneInfo("Europe/Paris")
DAY_FORMAT = "%d/%m/%Y"
MOMENT_FORMAT = "%d/%m/%Y %H:%M"
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def is_unknown(value: Any) -> bool:
    """None, NaN, NaT or pandas' NA."""
    if value is None:
        return True
    if isinstance(value, float | Decimal):
        return math.isnan(value)
    if isinstance(value, Real):
        return bool(value != value)  # numpy floats
    return type(value).__name__ in ("NAType", "NaTType")


def number(value: Any, decimals: int = 0, *, unknown: str = UNKNOWN) -> str:
    """``22926`` → ``22 926``; ``7.24`` with 1 decimal → ``7,2``; unknown → ``n.d.``."""
    if is_unknown(value):
        return unknown
    if not isinstance(value, int):
        value = float(value)
    return f"{value:,.{decimals}f}".replace(",", THOUSANDS).replace(".", ",")


def signed(value: Any, decimals: int = 0, *, unknown: str = UNKNOWN) -> str:
    """A difference, its sign always written: ``+12``, ``-1 204``, ``+0``."""
    text = number(value, decimals, unknown=unknown)
    return text if is_unknown(value) or text.startswith("-") else "+" + text


def per_thousand(value: Any, decimals: int = 1, *, unknown: str = UNKNOWN) -> str:
    """A rate per 1,000: ``7,2 ‰``."""
    return unknown if is_unknown(value) else f"{number(value, decimals)} ‰"


def percent(value: Any, decimals: int = 1, *, unknown: str = UNKNOWN) -> str:
    """A percentage given in points (``12.5`` → ``12,5 %``)."""
    return unknown if is_unknown(value) else f"{number(value, decimals)} %"


def day(value: date | datetime | None) -> str:
    """``14/07/2024``; empty when unknown."""
    return "" if value is None or is_unknown(value) else value.strftime(DAY_FORMAT)


def moment(value: datetime | None) -> str:
    """Local (Paris) time: the database keeps UTC, people read the time of their wall clock."""
    if value is None or is_unknown(value):
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(PARIS)
    return value.strftime(MOMENT_FORMAT)
