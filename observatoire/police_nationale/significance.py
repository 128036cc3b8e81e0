"""Is a change real? Exact tests on two Poisson counts with their denominators, and the funnel plot.

Two counts ``c1`` over ``n1`` and ``c2`` over ``n2`` (inhabitants or dwellings): under the hypothesis of one
common rate, ``c1`` given ``c1 + c2`` follows a binomial law of ``c1 + c2`` trials with probability
``n1 / (n1 + n2)`` (the exact conditional test of Przyborowski and Wilenski). The two-sided p-value adds the
probabilities of every outcome no more likely than the one observed (the convention of R's
``poisson.test`` and SciPy's ``binomtest``). Computed here from log-gamma over a window around the mode, in
one array: a comparison page runs over a hundred of these tests, some with thousands of terms.

Funnel plot: the communes of a size group, rate against population, around the group rate ``θ`` (sum of
counts over sum of denominators); control limits ``θ ± z·√(θ / n)`` (normal approximation of the Poisson
law, Spiegelhalter 2005) for 95 % (z = 1,959964) and 99,8 % (z = 3,090232).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from scipy.special import gammaln
from sqlalchemy.engine import Engine

from observatoire import french
from observatoire.police_nationale import indicators, rates

ALPHA = 0.05
Z95 = 1.959963984540054
Z998 = 3.090232306167813
# Relative tolerance of "no more likely than observed", as R and SciPy, against rounding of equal terms.
_RELATIVE = 1 + 1e-7


def _log_binom_pmf(k: np.ndarray, n: int, p: float) -> np.ndarray:
    if p <= 0:
        return np.where(k == 0, 0.0, -np.inf)
    if p >= 1:
        return np.where(k == n, 0.0, -np.inf)
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)


def poisson_test(c1: int, n1: float, c2: int, n2: float) -> float:
    """Two-sided p-value of equal rates for counts ``c1``/``n1`` and ``c2``/``n2`` (exact conditional)."""
    if c1 < 0 or c2 < 0 or n1 <= 0 or n2 <= 0:
        raise ValueError("nombres positifs et dénominateurs strictement positifs attendus")
    total = c1 + c2
    if total == 0:
        return 1.0
    p = n1 / (n1 + n2)
    # Beyond 40 standard deviations of the mode the terms are below e^-800 of it: left out, which keeps a
    # commune against France (hundreds of thousands of facts) to a few thousand terms.
    spread = 40 * math.sqrt(total * p * (1 - p)) + 10
    mode = int((total + 1) * p)
    # An observation further out widens the window on both sides (the other tail counts too).
    spread = max(spread, 2 * abs(c1 - mode) + 10)
    lo, hi = max(0, int(mode - spread)), min(total, int(mode + spread))
    logs = _log_binom_pmf(np.arange(lo, hi + 1, dtype=float), total, p)
    top = logs.max()
    observed = logs[c1 - lo]
    # Sum in the scale of the largest term, so that large counts do not underflow.
    terms = np.exp(logs - top)
    kept = terms[logs <= observed + math.log(_RELATIVE)].sum()
    return min(1.0, float(kept / terms.sum()))


def change_words(p_value: float | None, before: float | None, after: float | None) -> str:
    if p_value is None or before is None or after is None:
        return "test impossible (nombre ou dénominateur inconnu)"
    if p_value >= ALPHA:
        return "pas d'évolution significative"
    return "hausse significative" if after > before else "baisse significative"


def gap_words(p_value: float | None, commune: float | None, other: float | None) -> str:
    if p_value is None or commune is None or other is None:
        return "test impossible (nombre ou dénominateur inconnu)"
    if p_value >= ALPHA:
        return "pas d'écart significatif"
    return "significativement au-dessus" if commune > other else "significativement en dessous"


def _testable(row: dict[str, Any]) -> bool:
    return row.get("count") is not None and bool(row.get("denominator"))


def year_changes(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per series (indicator × territory): the first and last years shown that have a count and a
    denominator, tested. Never across a series break (two definitions)."""
    out = []
    series: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        series.setdefault((r["indicator"], r["territory"]), []).append(r)
    for (_ind, _code), rows in series.items():
        usable = sorted((r for r in rows if _testable(r)), key=lambda r: r["year"])
        if len(usable) < 2:
            continue
        first, last = usable[0], usable[-1]
        broken = last["edition"] in first.get("definition_breaks", ()) or any(
            r.get("break_before") for r in rows if first["year"] < r["year"] <= last["year"]
        )
        p = (
            None
            if broken
            else poisson_test(last["count"], last["denominator"], first["count"], first["denominator"])
        )
        out.append(
            {
                "indicateur": first["indicator_label"],
                "territoire": first["territory_name"],
                "niveau": first["level"],
                "de": first["year"],
                "a": last["year"],
                "taux_de": first["rate_per_1000"],
                "taux_a": last["rate_per_1000"],
                "p_value": p,
                "conclusion": "rupture de série entre ces années : pas de comparaison"
                if broken
                else change_words(p, first["rate_per_1000"], last["rate_per_1000"]),
            }
        )
    return out


def commune_gaps(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per indicator and year: the commune against each comparison territory. The commune belongs to
    the territories it is compared with, so it is taken out of them first (territory minus the commune)
    when both come from one edition; otherwise the territory is taken whole."""
    out = []
    by_key = {(r["indicator"], r["level"], r["year"]): r for r in records}
    for r in records:
        if r["level"] != "commune":
            continue
        for level in ("departement", "region", "groupe", "france"):
            other = by_key.get((r["indicator"], level, r["year"]))
            if other is None:
                continue
            p = None
            if other["edition"] in r.get("definition_breaks", ()):
                out.append(
                    {
                        "indicateur": r["indicator_label"],
                        "annee": r["year"],
                        "territoire": other["territory_name"],
                        "niveau": level,
                        "taux_commune": r["rate_per_1000"],
                        "taux_territoire": other["rate_per_1000"],
                        "p_value": None,
                        "conclusion": "définitions différentes (rupture de série) : pas de comparaison",
                    }
                )
                continue
            if _testable(r) and _testable(other):
                c2, n2 = other["count"], other["denominator"]
                if other["edition"] == r["edition"] and c2 >= r["count"] and n2 > r["denominator"]:
                    c2, n2 = c2 - r["count"], n2 - r["denominator"]
                p = poisson_test(r["count"], r["denominator"], c2, n2)
            out.append(
                {
                    "indicateur": r["indicator_label"],
                    "annee": r["year"],
                    "territoire": other["territory_name"],
                    "niveau": level,
                    "taux_commune": r["rate_per_1000"],
                    "taux_territoire": other["rate_per_1000"],
                    "p_value": p,
                    "conclusion": gap_words(p, r["rate_per_1000"], other["rate_per_1000"]),
                }
            )
    return out


def p_text(p: float | None) -> str:
    if p is None:
        return "—"
    return "p < 0,001" if p < 0.001 else f"p = {french.number(p, 3)}"


@dataclass(frozen=True)
class Funnel:
    indicator: str
    year: int
    edition: str
    group: rates.SizeGroup
    group_rate: float  # per 1,000
    points: pd.DataFrame  # territory, name, count, denominator, rate_per_1000, is_commune

    def limits(self, denominators: Sequence[float]) -> pd.DataFrame:
        """Control limits (per 1,000) at each denominator."""
        theta = self.group_rate / 1000
        rows = []
        for n in denominators:
            sd = math.sqrt(theta / n)
            rows.append(
                {
                    "denominator": n,
                    "low_95": max(0.0, theta - Z95 * sd) * 1000,
                    "high_95": (theta + Z95 * sd) * 1000,
                    "low_998": max(0.0, theta - Z998 * sd) * 1000,
                    "high_998": (theta + Z998 * sd) * 1000,
                }
            )
        return pd.DataFrame(rows)

    def position(self) -> str:
        """Where the commune stands, in words."""
        commune = self.points[self.points.is_commune]
        if commune.empty:
            return "commune absente du groupe pour cette année"
        c = commune.iloc[0]
        lim = self.limits([c.denominator]).iloc[0]
        if c.rate_per_1000 > lim.high_998 or c.rate_per_1000 < lim.low_998:
            where = "hors des limites à 99,8 %"
        elif c.rate_per_1000 > lim.high_95 or c.rate_per_1000 < lim.low_95:
            where = "hors des limites à 95 %, dans celles à 99,8 %"
        else:
            return "dans les limites à 95 % : écart au groupe compatible avec le hasard"
        side = "au-dessus" if c.rate_per_1000 > self.group_rate else "en dessous"
        return f"{side} du groupe, {where}"


def funnel(
    engine: Engine,
    indicator: str,
    commune: str,
    years: Sequence[int],
    *,
    edition: str | None = None,
    scope: str = "entiere",
) -> Funnel | None:
    """The funnel of the commune's size group for the latest of ``years`` (else the latest year) that an
    edition publishes with counts and denominators for the communes; None when none does."""
    ind = indicators.resolve(indicator)
    code = rates.parse_territory(commune)
    den, _ = rates._den_columns(ind)
    with engine.connect() as conn:
        eds = [edition] if edition else rates.indicator_editions(conn, ind)
        grp = rates._default_group(conn, eds, code, years, scope)
        if grp is None:
            return None
        metro = "AND left(s.territory_code, 6) <> 'COM:97'" if scope == "metropole" else ""
        for ed in eds:
            available = (
                conn.execute(
                    sa.text(f"""
                SELECT DISTINCT s.year FROM obs.pn_stat s JOIN obs.pn_denominator d
                  ON d.edition = s.edition AND d.territory_code = s.territory_code AND d.year = s.year
                WHERE s.edition = :e AND s.indicator_id = :i AND s.territory_code = :c
                  AND s.count IS NOT NULL AND {den} > 0 ORDER BY 1 DESC"""),
                    {"e": ed, "i": ind.id, "c": code},
                )
                .scalars()
                .all()
            )
            if not available:
                continue
            inside = [y for y in available if y in set(years)]
            year = inside[0] if inside else available[0]
            points = pd.read_sql(
                sa.text(f"""
                SELECT s.territory_code AS territory, coalesce(t.name, s.territory_code) AS name, s.count,
                       {den}::float8 AS denominator
                FROM obs.pn_stat s JOIN obs.pn_denominator d
                  ON d.edition = s.edition AND d.territory_code = s.territory_code AND d.year = s.year
                LEFT JOIN obs.territory t ON t.code = s.territory_code
                WHERE s.edition = :e AND s.indicator_id = :i AND s.year = :y AND left(s.territory_code, 4) = 'COM:'
                  {metro} AND s.count IS NOT NULL AND {den} > 0
                  AND d.inhabitants >= :lo AND (CAST(:hi AS float8) IS NULL OR d.inhabitants < :hi)
                ORDER BY s.territory_code"""),
                conn,
                params={"e": ed, "i": ind.id, "y": year, "lo": grp.low, "hi": grp.high},
            )
            if points.empty or points["count"].sum() == 0:
                continue
            points["rate_per_1000"] = points["count"] / points["denominator"] * 1000
            points["is_commune"] = points.territory == code
            group_rate = float(points["count"].sum() / points.denominator.sum() * 1000)
            return Funnel(ind.id, int(year), ed, grp, group_rate, points)
    return None
