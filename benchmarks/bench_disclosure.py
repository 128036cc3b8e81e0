"""Time the linear programming check of statistical secrecy (:func:`observatoire.disclosure.pinned`) with
the small independent groups of masked cells solved together, against the same check solving each group
alone (``batch=1``), on a table like the police municipale activity page's: types within families, a total,
four years of months, quarters and years. Both must find the same cells.

Run: ``.venv/bin/python benchmarks/bench_disclosure.py [--families 7] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from observatoire import disclosure
from observatoire.disclosure import Calendar, Sums


def table(n_families: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[Sums]]:
    """Counts, states after protection, and the sums of a table of families and types over 2021-2024."""
    rng = np.random.default_rng(seed)
    calendar = Calendar(2021, 2024)
    rows, groups = [], []
    for f in range(n_families):
        types = [f"t{f}.{k}" for k in range(int(rng.integers(1, 6)))]
        rows += types
        groups.append((f"f{f}", types))
    monthly = pd.DataFrame(
        rng.poisson(rng.choice([0.3, 2, 6, 30], size=(len(rows), 1)), size=(len(rows), 48)),
        index=rows,
        columns=calendar.months,
    )
    for total, parts in groups:
        monthly.loc[total] = monthly.loc[parts].sum()
    monthly.loc["G"] = monthly.loc[[g for g, _ in groups]].sum()
    groups.append(("G", [g for g, _ in groups]))
    values, states = disclosure.protect_periods(monthly, 5, groups=groups, calendar=calendar)
    n = len(calendar)
    where = {r: k for k, r in enumerate(values.index)}
    pairs = [
        (r * n + p, [r * n + c for c in kids]) for p, kids in calendar.children for r in range(len(where))
    ]
    for total, parts in groups:
        pairs += [(where[total] * n + k, [where[p] * n + k for p in parts]) for k in range(n)]
    return values.to_numpy().ravel(), states.to_numpy().ravel(), Sums.of(pairs)


def best_of(repeat: int, fn) -> tuple[float, np.ndarray]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    values, states, sums = table(args.families)
    masked = int((states != disclosure.SHOWN).sum())
    together, found = best_of(args.repeat, lambda: disclosure.pinned(values, states, sums, 5))
    alone, peer = best_of(args.repeat, lambda: disclosure.pinned(values, states, sums, 5, batch=1))
    assert np.array_equal(found, peer)
    print(f"{len(values)} cellules, {masked} masquées ; programmation linéaire :")
    print(f"  groupes ensemble : {together * 1000:.0f} ms ; chaque groupe seul : {alone * 1000:.0f} ms")
    print(f"  rapport : {alone / together:.1f} fois plus rapide")


if __name__ == "__main__":
    main()
