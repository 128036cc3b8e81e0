"""French formatting of numbers and dates for everything the user reads: the rules of
:mod:`observatoire.french`, under the names the pages use."""

from __future__ import annotations

from observatoire.french import PARIS, THOUSANDS, day, moment, number, per_thousand, percent, signed

NBSP = THOUSANDS  # narrow no-break space, the French thousands separator

__all__ = ["NBSP", "PARIS", "day", "moment", "number", "per_thousand", "percent", "signed"]
