"""The rules of statistical secrecy on their own (no database): the reporting periods and hour bands an
aggregate-only role is widened to, and the complementary suppression, checked on random tables with margins
by linear programming (:mod:`tests.disclosure_audit`), not by the product's own reasoning."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from observatoire import disclosure
from observatoire.disclosure import PRIMARY, SECONDARY, SHOWN, Calendar, Sums
from tests.disclosure_audit import Knowledge


@pytest.mark.parametrize(
    ("start", "end", "label", "bounds"),
    [
        (date(2023, 3, 5), date(2023, 3, 6), "mars 2023", (date(2023, 3, 1), date(2023, 3, 31))),
        (date(2023, 1, 1), date(2023, 3, 31), "1er trimestre 2023", (date(2023, 1, 1), date(2023, 3, 31))),
        (date(2023, 2, 28), date(2023, 3, 1), "1er trimestre 2023", (date(2023, 1, 1), date(2023, 3, 31))),
        (date(2023, 3, 31), date(2023, 4, 1), "2023", (date(2023, 1, 1), date(2023, 12, 31))),
        (date(2023, 12, 31), date(2024, 1, 1), "toute la période", (None, None)),
        (date(2023, 5, 1), None, "toute la période", (None, None)),
        (date(2023, 6, 9), date(2023, 6, 1), "juin 2023", (date(2023, 6, 1), date(2023, 6, 30))),
        (date(2024, 11, 2), date(2024, 12, 30), "4e trimestre 2024", (date(2024, 10, 1), date(2024, 12, 31))),
    ],
)
def test_any_period_widens_to_a_month_a_quarter_a_year_or_everything(start, end, label, bounds):
    period = disclosure.reporting_period(start, end)
    assert (period.label, (period.start, period.end)) == (label, bounds)
    assert disclosure.reporting_period(period.start, period.end) == period  # already a reporting period
    assert disclosure.period_of_key(period.key) == period


def test_choices_of_the_pages_are_reporting_periods():
    for key, _ in disclosure.YEAR_PARTS:
        period = disclosure.period_of_choice(2023, key)
        assert disclosure.reporting_period(period.start, period.end) == period
    assert disclosure.period_of_choice("tout", "03") == disclosure.Period(None, None)


@pytest.mark.parametrize(
    ("hours", "band"),
    [
        ((22, 23), (19, 2)),
        ((20, 21), (19, 2)),
        ((23, 5), (22, 6)),
        ((3, 4), (22, 6)),
        ((8, 12), (7, 19)),
        ((18, 20), None),
        ((0, 0), None),
        (None, None),
        ((19, 2), (19, 2)),
        ((7, 19), (7, 19)),
    ],
)
def test_hours_widen_to_a_fixed_band(hours, band):
    assert disclosure.reporting_hours(hours) == band


def test_a_lone_masked_type_beside_its_family_total_gets_a_complement():
    # family total 20 = 1 + 6 + 13: the 1 masked alone would be 20 - 19
    values = np.array([20, 1, 6, 13.0])
    sums = Sums.of([(0, [1, 2, 3])])
    states = disclosure.protect(values, sums, 5)
    assert states.tolist() == [SHOWN, PRIMARY, SECONDARY, SHOWN]
    assert not disclosure.exposed(values, states, sums, 5).any()
    # A zero beside it is the cheapest complement: it reads « < 5 » and hides nothing of anyone.
    values = np.array([20, 1, 0, 6, 13.0])
    states = disclosure.protect(values, Sums.of([(0, [1, 2, 3, 4])]), 5)
    assert states.tolist() == [SHOWN, PRIMARY, PRIMARY, SHOWN, SHOWN]


def test_a_complement_is_never_a_count_its_sums_give_away_anyway():
    # 116 = A + 0, both decided elsewhere and shown: A (116) is known whatever its label. In 118 = A + 2, the
    # 2 needs a complement: masking A would hide nothing, so the total 118 is masked instead.
    values = np.array([116, 116, 0, 118, 2.0])
    sums = Sums.of([(0, [1, 2]), (3, [1, 4])])
    states = disclosure.protect(values, sums, 5, given=np.array([SHOWN, -1, SHOWN, -1, -1]))
    assert states.tolist() == [SHOWN, SHOWN, SHOWN, SECONDARY, PRIMARY]
    assert not disclosure.exposed(values, states, sums, 5).any()


def _random_table(rng, rows: int, cols: int) -> tuple[np.ndarray, list]:
    """A table of small counts with its row, column and grand totals, as a flat array and its sums."""
    body = rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 14, 30], size=(rows, cols), p=None)
    grid = np.zeros((rows + 1, cols + 1))
    grid[:rows, :cols] = body
    grid[rows, :cols] = body.sum(axis=0)
    grid[:rows, cols] = body.sum(axis=1)
    grid[rows, cols] = body.sum()
    at = lambda r, c: r * (cols + 1) + c  # noqa: E731
    pairs = [(at(r, cols), [at(r, c) for c in range(cols)]) for r in range(rows + 1)]
    pairs += [(at(rows, c), [at(r, c) for r in range(rows)]) for c in range(cols + 1)]
    return grid.ravel(), pairs


@pytest.mark.parametrize("seed", range(12))
def test_random_tables_with_margins_leak_nothing(seed):
    rng = np.random.default_rng(seed)
    values, pairs = _random_table(rng, int(rng.integers(2, 7)), int(rng.integers(2, 7)))
    states = disclosure.protect(values, Sums.of(pairs), 5)
    knowledge = Knowledge(threshold=5)
    for k, (v, s) in enumerate(zip(values, states, strict=True)):
        knowledge.add(k, disclosure.shown_as(v, s, 5))
    for total, parts in pairs:
        knowledge.relate(total, parts)
    assert (states[(values > 0) & (values < 5)] != SHOWN).all()
    assert knowledge.by_subtraction() == {}
    assert knowledge.by_linear_programming() == {}


def test_a_year_minus_its_months_gives_nothing():
    rng = np.random.default_rng(3)
    calendar = Calendar(2022, 2023)
    monthly = pd.DataFrame(rng.poisson(0.8, size=(6, 24)), columns=calendar.months, index=list("abcdef"))
    monthly.loc["total"] = monthly.sum()
    values, states = disclosure.protect_periods(monthly, 5, groups=[("total", list("abcdef"))])
    knowledge = _calendar_knowledge(calendar, values, states, [("total", list("abcdef"))])
    assert knowledge.masked and knowledge.by_linear_programming() == {}
    assert values.at["a", "2023"] == monthly.loc["a", calendar.months[12:]].sum()


def test_a_family_with_one_small_type_keeps_its_total():
    # Family F = a + b + c + d over two years; a counts 2 interventions in March 2022 and 3 in May 2023, the
    # others dozens every month. Masking the family hides what a reader looks at first; masking the smallest
    # other type beside a (d) protects a just as well.
    calendar = Calendar(2022, 2023)
    rng = np.random.default_rng(0)
    monthly = pd.DataFrame(0, index=list("abcd"), columns=calendar.months)
    monthly.loc["b"] = rng.integers(30, 40, 24)
    monthly.loc["c"] = rng.integers(20, 30, 24)
    monthly.loc["d"] = rng.integers(8, 12, 24)
    monthly.loc["a", calendar.months[2]] = 2
    monthly.loc["a", calendar.months[16]] = 3
    monthly.loc["F"] = monthly.sum()
    values, states = disclosure.protect_periods(monthly, 5, groups=[("F", list("abcd"))], calendar=calendar)
    assert (states.loc["F"] == SHOWN).all()
    assert states["2022-03"].tolist() == [PRIMARY, SHOWN, SHOWN, SECONDARY, SHOWN]
    for key in ("2022-03", "2022-T1", "2022", "2023-05", "2023-T2", "2023"):
        assert states.at["a", key] == PRIMARY and states.at["d", key] == SECONDARY, key
    assert (states["tout"] == SHOWN).all()  # 5 for a: nothing to hide over the whole period
    knowledge = _calendar_knowledge(calendar, values, states, [("F", list("abcd"))])
    assert knowledge.by_subtraction() == {}
    assert knowledge.by_linear_programming() == {}


def test_a_family_of_a_single_type_is_decided_as_one_figure():
    # A family of one type is that type under another name: masking the type (1 to 4 a month) must not force
    # masking the family, nor the family its neighbours, in every quarter and year.
    calendar = Calendar(2022, 2023)
    rng = np.random.default_rng(2)
    monthly = pd.DataFrame(0, index=["a", "A", "b1", "b2", "B", "c", "C", "G"], columns=calendar.months)
    monthly.loc["a"] = rng.integers(1, 5, 24)
    monthly.loc["b1"] = rng.integers(20, 40, 24)
    monthly.loc["b2"] = rng.integers(5, 15, 24)
    monthly.loc["c"] = rng.integers(6, 12, 24)
    monthly.loc["A"], monthly.loc["C"] = monthly.loc["a"], monthly.loc["c"]
    monthly.loc["B"] = monthly.loc["b1"] + monthly.loc["b2"]
    monthly.loc["G"] = monthly.loc["A"] + monthly.loc["B"] + monthly.loc["C"]
    groups = [("G", ["A", "B", "C"]), ("A", ["a"]), ("B", ["b1", "b2"]), ("C", ["c"])]
    _, grand = disclosure.protect_periods(monthly.loc[["G"]], 5, calendar=calendar)
    values, states = disclosure.protect_periods(
        monthly, 5, groups=groups, given={"G": grand.loc["G"].to_numpy()}, calendar=calendar
    )
    assert (states.loc["a"] == states.loc["A"]).all() and (states.loc["c"] == states.loc["C"]).all()
    assert (states.loc["a", calendar.keys[:24]] == PRIMARY).all()
    periods = [p.key for p in calendar.periods if p.kind != "mois"]
    assert (states[periods] == SHOWN).all().all()  # every quarter, year and the whole period
    knowledge = _calendar_knowledge(calendar, values, states, groups)
    assert knowledge.by_subtraction() == {}
    assert knowledge.by_linear_programming() == {}


def _calendar_knowledge(calendar: Calendar, values: pd.DataFrame, states: pd.DataFrame, groups) -> Knowledge:
    """What a reader gets from a table protected over the calendar: every period of every row, the
    calendar's sums and the table's."""
    knowledge = Knowledge(threshold=5)
    for row in values.index:
        for key in calendar.keys:
            knowledge.add((row, key), disclosure.shown_as(values.at[row, key], states.at[row, key], 5))
        for parent, children in calendar.children:
            knowledge.relate((row, calendar.keys[parent]), [(row, calendar.keys[c]) for c in children])
    for total, parts in groups:
        for key in calendar.keys:
            knowledge.relate((total, key), [(p, key) for p in parts])
    return knowledge
