"""What an attacker can work out from figures published with small counts masked: every figure a person reads,
every sum the pages imply (a total and its parts), and the bounds a label gives (« < 5 »: 1 to 4, or 0 to 4
where zeros are masked too; « non diffusé »: at least 5). Written apart from the product's own masking, so
that the tests check it with other means: single subtractions, and linear programming over all the
relations at once (a masked value is recovered when its smallest and largest possible values meet).
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import numpy as np

SMALL = re.compile(r"^<\s*(\d+)$")
SECRET = "non diffusé"


def parse_count(text: str) -> int | str:
    """« 1 234 » → 1234; a masking label is returned as it is."""
    clean = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if clean.isdigit():
        return int(clean)
    return text.strip()


@dataclass
class Knowledge:
    """Published cells (exact, or masked with the bounds their label gives) and the sums between them."""

    threshold: int = 5
    known: dict[Hashable, int] = field(default_factory=dict)
    masked: dict[Hashable, tuple[float, float]] = field(default_factory=dict)
    relations: list[tuple[Hashable, tuple[Hashable, ...]]] = field(default_factory=list)

    def add(self, key: Hashable, text: str | int, *, zero_masked: bool = True) -> None:
        """A cell as a person reads it. ``zero_masked``: « < 5 » may be a 0 (the published rule: 0 to 4);
        False where a reader knows every 0 is written « 0 »."""
        value = parse_count(text) if isinstance(text, str) else text
        if isinstance(value, int):
            if value == 0 and key in self.masked:
                return  # a masked cell drawn as 0 elsewhere: the label tells it is not 0
            assert self.known.get(key, value) == value, (key, self.known[key], value)
            self.known[key] = value
            self.masked.pop(key, None)  # published exactly somewhere: known
            return
        if self.known.get(key, 0):
            return  # published exactly elsewhere
        self.known.pop(key, None)
        if SMALL.match(value):
            self.masked[key] = (0.0 if zero_masked else 1.0, float(int(SMALL.match(value).group(1)) - 1))
        elif value.startswith(SECRET):
            self.masked[key] = (float(self.threshold), math.inf)
        elif value.startswith("non détaillé"):
            self.masked[key] = (0.0, math.inf)
        elif value.startswith("au moins"):
            self.masked[key] = (float(parse_count(value.split("au moins", 1)[1].strip())), math.inf)
        else:
            raise AssertionError(f"valeur illisible : {key!r} = {value!r}")

    def relate(self, total: Hashable, parts: Iterable[Hashable]) -> None:
        """``total`` = sum of ``parts``; a key never published counts 0 (an absent row, an empty cell)."""
        self.relations.append((total, tuple(parts)))

    def value_of(self, key: Hashable) -> int | None:
        if key in self.masked:
            return None
        return self.known.get(key, 0)

    def by_subtraction(self) -> dict[Hashable, int]:
        """Masked cells that are the only masked member of a sum: total minus the shown cells."""
        found: dict[Hashable, int] = {}
        for total, parts in self.relations:
            hidden = [k for k in (total, *parts) if k in self.masked]
            if len(hidden) != 1:
                continue
            key = hidden[0]
            others = sum(self.value_of(k) or 0 for k in parts if k != key)
            found[key] = others if key == total else (self.value_of(total) or 0) - others
        return found

    def by_linear_programming(self) -> dict[Hashable, int]:
        """Masked cells whose value is fixed by all the sums and bounds together."""
        from scipy.optimize import linprog

        variables = sorted(self.masked, key=repr)
        index = {k: i for i, k in enumerate(variables)}
        rows, rhs = [], []
        for total, parts in self.relations:
            row = np.zeros(len(variables))
            constant = 0.0
            for key, sign in [(total, 1.0), *((p, -1.0) for p in parts)]:
                if key in index:
                    row[index[key]] += sign
                else:
                    constant -= sign * (self.value_of(key) or 0)
            if row.any():
                rows.append(row)
                rhs.append(constant)
        found: dict[Hashable, int] = {}
        if not variables:
            return found
        # Split into independent groups of variables (sums sharing no masked cell).
        parent = list(range(len(variables)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for row in rows:
            members = np.flatnonzero(row)
            for m in members[1:]:
                parent[root(m)] = root(members[0])
        groups: dict[int, list[int]] = {}
        for i in range(len(variables)):
            groups.setdefault(root(i), []).append(i)
        from scipy import sparse

        a_all = sparse.csr_matrix(np.array(rows)) if rows else sparse.csr_matrix((0, len(variables)))
        b_all = np.array(rhs)
        rng = np.random.default_rng(0)
        for members in groups.values():
            cols = np.array(members)
            sub = a_all[:, cols]
            keep = np.asarray(abs(sub).sum(axis=1)).ravel() > 0
            a, b = sub[keep], b_all[keep]
            bounds = [
                (
                    self.masked[variables[i]][0],
                    None if math.isinf(self.masked[variables[i]][1]) else self.masked[variables[i]][1],
                )
                for i in members
            ]
            if not a.shape[0]:
                continue  # bounded only by its label: never fixed (a label spans several values)

            def solve(c, a=a, b=b, bounds=bounds):
                """The optimum, None when unbounded (a value with no ceiling is not fixed)."""
                result = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
                if result.status == 2:
                    raise AssertionError("relations incohérentes : aucune solution (erreur de lecture ?)")
                return result.x if result.status == 0 else None

            # Opposite random directions first: a variable seen at two values is not fixed; the few left
            # are checked one by one.
            candidates = np.ones(len(members), dtype=bool)
            quiet = 0
            while candidates.any() and quiet < 2:
                weights = np.where(candidates, rng.normal(size=len(members)), 0.0)
                low, high = solve(weights), solve(-weights)
                moved = np.zeros(len(members), dtype=bool)
                if low is not None and high is not None:
                    moved = candidates & (np.abs(high - low) >= 0.5)
                quiet = 0 if moved.any() else quiet + 1
                candidates &= ~moved
            for position in np.flatnonzero(candidates):
                c = np.zeros(len(members))
                c[position] = 1.0
                low, high = solve(c), solve(-c)
                if low is None or high is None:
                    continue
                lo, hi = math.ceil(low[position] - 1e-6), math.floor(high[position] + 1e-6)
                if lo == hi:
                    found[variables[members[position]]] = lo
        return found
