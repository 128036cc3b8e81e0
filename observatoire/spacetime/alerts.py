"""Alerts on real changes: the latest month and quarter against the same period a year before and against the
twelve months before, per category and per zone, kept when the rise is significant.

Each comparison is a conditional test of two Poisson counts: given ``c`` events in the period and ``r`` in the
reference (of ``k`` times its length), ``c`` follows Binomial(c + r, 1 / (1 + k)) when the rate did not change;
the one-sided p is ``P(X ≥ c)``. The p-values of every comparison made (categories × zones × periods ×
references) go through the Benjamini–Hochberg correction, so that a stable series raises nothing but chance at
the stated false discovery rate, however many series are watched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from observatoire.disclosure import month_period
from observatoire.spacetime import gistar

ALPHA = 0.05
MIN_COUNT = 5  # a period with fewer events raises no alert, whatever the test says
REFERENCES = {
    "annee_precedente": "même période un an avant",
    "douze_mois": "moyenne des douze mois précédents",
}


@dataclass(frozen=True)
class Series:
    """Monthly counts of one category in one zone: ``counts[k]`` is month ``first_month + k``."""

    category: str
    category_label: str
    zone: str
    zone_label: str
    first_month: int
    counts: np.ndarray


def _sum(series: Series, start: int, length: int) -> float | None:
    """Events of months ``start`` … ``start + length - 1``; None when they are not all in the series."""
    a = start - series.first_month
    if a < 0 or a + length > len(series.counts):
        return None
    return float(series.counts[a : a + length].sum())


def _period_label(month: int, length: int) -> str:
    return month_period(1970 + month // 12, month % 12 + 1, length).label


def comparisons(series: Series, last_month: int) -> list[dict[str, Any]]:
    """Every test of one series: latest month and latest complete quarter, each against both references."""
    out = []
    quarter_end = last_month - ((last_month % 12) + 1) % 3  # last month of the latest complete quarter
    for kind, start, length in (("mois", last_month, 1), ("trimestre", quarter_end - 2, 3)):
        current = _sum(series, start, length)
        if current is None:
            continue
        for reference, (r_start, r_length, share) in {
            "annee_precedente": (start - 12, length, 1.0),
            "douze_mois": (start - 12, 12, 12.0 / length),
        }.items():
            ref = _sum(series, r_start, r_length)
            if ref is None:
                continue
            expected = ref / share
            p = float(stats.binom.sf(current - 1, current + ref, 1.0 / (1.0 + share))) if current else 1.0
            out.append(
                {
                    "categorie": series.category,
                    "categorie_libelle": series.category_label,
                    "zone": series.zone,
                    "zone_libelle": series.zone_label,
                    "periode": _period_label(start, length),
                    "type_periode": kind,
                    "reference": reference,
                    "reference_libelle": REFERENCES[reference],
                    "effectif": int(current),
                    "attendu": round(expected, 1),
                    "ecart": round(current - expected, 1),
                    "rapport": round(current / expected, 2) if expected > 0 else None,
                    "p": p,
                }
            )
    return out


def significant_rises(
    all_series: list[Series], last_month: int, alpha: float = ALPHA
) -> list[dict[str, Any]]:
    """The « hausses significatives »: every comparison whose rise passes the false discovery rate correction
    over all the comparisons made, with at least :data:`MIN_COUNT` events; largest ratios first."""
    tests = [t for s in all_series for t in comparisons(s, last_month)]
    if not tests:
        return []
    keep = gistar.fdr_significant(np.array([t["p"] for t in tests]), alpha)
    rises = [
        {**t, "p": float(f"{t['p']:.3g}")}
        for t, k in zip(tests, keep, strict=True)
        if k and t["effectif"] >= MIN_COUNT and t["effectif"] > t["attendu"]
    ]
    return sorted(rises, key=lambda t: (-(t["rapport"] or np.inf), t["zone"], t["categorie"]))


def size_band(ratio: float | None) -> str:
    """The size of a rise in words, for the roles that see no count."""
    if ratio is None:
        return "apparition"
    if ratio < 1.5:
        return "moins de +50 %"
    if ratio < 2:
        return "de +50 % à +100 %"
    if ratio < 3:
        return "de × 2 à × 3"
    return "plus de × 3"
