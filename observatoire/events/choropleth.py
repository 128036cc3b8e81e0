"""Choropleth classes with ``mapclassify``: quantiles, natural breaks (Fisher–Jenks), equal intervals, with
their bounds and French labels for the legend and the table."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from observatoire.errors import InputFileError

SCHEMES: dict[str, str] = {
    "quantiles": "Quantiles (effectifs égaux)",
    "natural_breaks": "Seuils naturels (Fisher–Jenks)",
    "equal_interval": "Intervalles égaux",
}
# Fisher–Jenks is quadratic in the number of values (pure Python without numba): above this, it runs on
# this many evenly spaced quantiles of the values, which keeps the breaks and stays deterministic.
_JENKS_MAX = 400


def _number(value: float, integers: bool) -> str:
    if integers:
        return f"{int(round(value)):,}".replace(",", "\u202f")
    text = f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
    return text.replace(",", "\u202f").replace(".", ",")


def classify(values: list[float] | np.ndarray, scheme: str = "quantiles", k: int = 5) -> dict[str, Any]:
    """Classes of ``values`` (NaN ignored).

    Returns ``scheme``, ``scheme_label``, ``k`` (may be fewer than asked when values repeat), ``bounds``
    (upper bound of each class), ``classes`` (``lower``, ``upper``, ``label`` like « de 4 à 8 », ``members``: values in the class)
    and ``bins``: the class of each value in order (None for NaN).
    """
    if scheme not in SCHEMES:
        raise InputFileError(f"Méthode de classes inconnue : {scheme!r} (possibles : {', '.join(SCHEMES)}).")
    if not 2 <= k <= 9:
        raise InputFileError(f"Nombre de classes invalide : {k} (de 2 à 9).")
    data = np.asarray(values, dtype=float)
    present = ~np.isnan(data)
    y = data[present]
    result: dict[str, Any] = {
        "scheme": scheme,
        "scheme_label": SCHEMES[scheme],
        "k": 0,
        "bounds": [],
        "classes": [],
        "bins": [None] * len(data),
    }
    if len(y) == 0:
        return result
    unique = np.unique(y)
    k = min(k, len(unique))
    if k < 2:
        bounds = np.array([unique[0]])
    else:
        bounds = _bounds(y, unique, scheme, k)
    integers = bool(np.all(np.equal(np.mod(y, 1), 0)))
    yb = np.searchsorted(bounds, y, side="left")
    yb = np.minimum(yb, len(bounds) - 1)
    classes = []
    for c, upper in enumerate(bounds):
        if integers:  # class c holds the integers v with bound[c-1] < v <= bound[c]
            low = float(y.min()) if c == 0 else float(np.floor(bounds[c - 1]) + 1)
            high = float(np.floor(upper))
            text = _number(high, True) if low == high else f"de {_number(low, True)} à {_number(high, True)}"
        else:
            low = float(y.min()) if c == 0 else float(bounds[c - 1])
            high = float(upper)
            text = (
                f"de {_number(low, False)} à {_number(high, False)}"
                if c == 0
                else f"plus de {_number(low, False)} à {_number(high, False)}"
            )
        classes.append({"lower": low, "upper": high, "label": text, "members": int((yb == c).sum())})
    bins: list[int | None] = [None] * len(data)
    for position, value in zip(np.flatnonzero(present), yb, strict=True):
        bins[int(position)] = int(value)
    result.update(k=len(bounds), bounds=[float(b) for b in bounds], classes=classes, bins=bins)
    return result


def _bounds(y: np.ndarray, unique: np.ndarray, scheme: str, k: int) -> np.ndarray:
    import mapclassify

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "numba not installed", "not enough unique values"
        if scheme == "quantiles":
            bounds = mapclassify.Quantiles(y, k=k).bins
        elif scheme == "equal_interval":
            bounds = mapclassify.EqualInterval(y, k=k).bins
        else:
            sample = y if len(y) <= _JENKS_MAX else np.quantile(y, np.linspace(0, 1, _JENKS_MAX))
            bounds = mapclassify.FisherJenks(sample, k=k).bins
            bounds[-1] = y.max()
    return np.unique(np.asarray(bounds, dtype=float))
