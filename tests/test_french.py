"""French numbers and dates: one set of rules for the pages, the CLI tables and the exports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from observatoire import french

NNBSP = "\u202f"


@pytest.mark.parametrize(
    "value, decimals, expected",
    [
        (22926, 0, f"22{NNBSP}926"),
        (1234567, 0, f"1{NNBSP}234{NNBSP}567"),
        (7.24, 1, "7,2"),
        (7.25, 2, "7,25"),
        (0, 0, "0"),
        (-1204.5, 1, f"-1{NNBSP}204,5"),
        (np.int64(5000), 0, f"5{NNBSP}000"),
        (np.float64(0.5), 2, "0,50"),
        (Decimal("12.345"), 1, "12,3"),
        ("3.5", 1, "3,5"),
        (True, 0, "1"),
    ],
)
def test_number(value, decimals, expected):
    assert french.number(value, decimals) == expected


@pytest.mark.parametrize("unknown", [None, float("nan"), np.nan, pd.NA, pd.NaT, Decimal("NaN")])
def test_unknown_is_never_zero(unknown):
    assert french.number(unknown) == "n.d."
    assert french.per_thousand(unknown) == "n.d." and french.percent(unknown, unknown="") == ""
    assert french.signed(unknown) == "n.d." and french.day(unknown) == ""


def test_rates_percentages_and_differences():
    assert french.per_thousand(7.2) == "7,2 ‰" and french.per_thousand(12.345, 2) == "12,35 ‰"
    assert french.percent(12.5) == "12,5 %" and french.percent(1500, 0) == f"1{NNBSP}500 %"
    assert french.signed(12) == "+12" and french.signed(-1204) == f"-1{NNBSP}204" and french.signed(0) == "+0"


def test_dates_and_moments():
    assert french.day(date(2024, 7, 14)) == "14/07/2024"
    assert french.day(pd.Timestamp("2024-03-01 10:00")) == "01/03/2024"
    assert french.moment(datetime(2024, 7, 14, 20, 5, tzinfo=UTC)) == "14/07/2024 22:05"  # Paris
    assert french.moment(datetime(2024, 1, 14, 20, 5)) == "14/01/2024 20:05"


def test_the_dashboard_formats_by_the_same_rules():
    from dashboard.components import formatting

    assert formatting.number is french.number and formatting.per_thousand(7.2) == "7,2 ‰"
    assert formatting.NBSP == NNBSP
