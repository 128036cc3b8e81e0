"""Who an export is made for. *Restreint*: what the role may see. *Plénier/public*: aggregated only, with
the protection of the aggregate-only roles (:mod:`observatoire.disclosure`), plus the neighbours of every
cell or zone under the threshold suppressed, no sensitive category below the commune, no point."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from observatoire import disclosure
from observatoire.errors import InputFileError, PermissionDenied
from observatoire.permissions import AGGREGATE_ONLY

RESTREINT = "restreint"
PLENIER = "plenier"
AUDIENCES: dict[str, str] = {
    RESTREINT: "Restreint — CLSPDR restreint, diffusion limitée",
    PLENIER: "Plénier / public — chiffres agrégés, secret statistique appliqué",
}
# The figures of a plenary export are those an aggregate-only role receives.
PLENARY_ROLE = sorted(AGGREGATE_ONLY)[0]


def check(audience: str, role: str | None) -> str:
    """The audience, refused when unknown or above what the role may receive."""
    if audience not in AUDIENCES:
        raise InputFileError(
            f"Niveau de diffusion inconnu : « {audience} » (possibles : {', '.join(AUDIENCES)})."
        )
    if role in AGGREGATE_ONLY and audience != PLENIER:
        raise PermissionDenied("Votre rôle ne peut produire que des exports de niveau plénier / public.")
    return audience


def query_role(audience: str, role: str | None) -> str | None:
    """The role whose rules the figures of the export follow."""
    return PLENARY_ROLE if audience == PLENIER else role


def suppress_neighbours(
    counts: Sequence[int] | np.ndarray,
    states: Sequence[int] | np.ndarray,
    neighbours: Callable[[int], Sequence[int]],
    threshold: int,
) -> np.ndarray:
    """States with every shown neighbour of a cell holding 1 to ``threshold - 1`` events masked too
    (« non diffusé »): with its neighbours hidden, a small cell cannot be had as the difference between a
    neighbourhood published elsewhere (a bigger hexagon, an IRIS, a hot spot's window) and the cells shown."""
    counts = np.asarray(counts)
    out = np.asarray(states, dtype=int).copy()
    small = np.flatnonzero((counts > 0) & (counts < threshold))
    for k in small:
        out[k] = disclosure.PRIMARY if out[k] == disclosure.SHOWN else out[k]
        for n in neighbours(int(k)):
            if out[n] == disclosure.SHOWN:
                out[n] = disclosure.SECONDARY
    return out
