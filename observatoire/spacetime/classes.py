"""The classes of the emerging hot spot analysis, their French names and their rules (as published)."""

from __future__ import annotations

import numpy as np

SHARE = 0.9  # « au moins 90 % des tranches »
TREND_ALPHA = 0.05  # significance of the Mann-Kendall trend

KINDS = (
    "nouveau",
    "consecutif",
    "intensification",
    "persistant",
    "diminution",
    "sporadique",
    "oscillant",
    "historique",
)
NONE = "aucune_tendance"

# class → (French label, colour). Hot: warm hues, cold: cool ones, each class its own hue or lightness so that
# neighbouring cells of different classes stay apart; the « ancien » classes in grey.
_HOT_COLOURS = ("#fee08b", "#fdae61", "#67000d", "#d73027", "#b35806", "#c51b7d", "#762a83", "#bababa")
_COLD_COLOURS = ("#c7eae5", "#80cdc1", "#08306b", "#2166ac", "#35978f", "#92c5de", "#4d9221", "#d9d9d9")
_HOT_LABELS = (
    "Nouveau point chaud",
    "Point chaud consécutif",
    "Point chaud qui s'intensifie",
    "Point chaud persistant",
    "Point chaud qui s'atténue",
    "Point chaud sporadique",
    "Point chaud oscillant",
    "Ancien point chaud",
)
_COLD_LABELS = tuple(
    label.replace("point chaud", "point froid").replace("Point chaud", "Point froid") for label in _HOT_LABELS
)
CLASSES: dict[str, tuple[str, str]] = {
    **{f"chaud_{k}": (lab, col) for k, lab, col in zip(KINDS, _HOT_LABELS, _HOT_COLOURS, strict=True)},
    **{f"froid_{k}": (lab, col) for k, lab, col in zip(KINDS, _COLD_LABELS, _COLD_COLOURS, strict=True)},
    NONE: ("Aucune tendance détectée", "#f7f7f7"),
}

# The rule of each class, for the methodology (the cold classes read the same with « froid »).
RULES: dict[str, str] = {
    "nouveau": "significatif (chaud) dans la dernière tranche seulement, jamais auparavant",
    "consecutif": "une seule suite ininterrompue d'au moins deux tranches significatives, qui va jusqu'à la "
    "dernière, jamais significatif avant cette suite, et moins de 90 % des tranches significatives",
    "intensification": "significatif dans au moins 90 % des tranches, dont la dernière, et une tendance à la "
    "hausse de l'intensité (z de Gi*) significative (Mann-Kendall, p < 0,05)",
    "persistant": "significatif dans au moins 90 % des tranches, dont la dernière, sans tendance significative "
    "de l'intensité",
    "diminution": "significatif dans au moins 90 % des tranches, dont la dernière, et une tendance à la baisse "
    "de l'intensité significative (Mann-Kendall, p < 0,05)",
    "sporadique": "significatif dans la dernière tranche, par intermittence auparavant, dans moins de 90 % des "
    "tranches, et jamais significatif dans l'autre sens (point froid pour un point chaud)",
    "oscillant": "significatif dans la dernière tranche, dans moins de 90 % des tranches, et significatif dans "
    "l'autre sens (point froid pour un point chaud) dans au moins une tranche antérieure",
    "historique": "non significatif dans la dernière tranche, mais significatif dans au moins 90 % des tranches",
}


def classify(hot: np.ndarray, cold: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray) -> np.ndarray:
    """The class of each cell from its significant hot and cold bins (cells × slices, oldest first) and the
    Mann-Kendall trend of its Gi* z-scores."""
    n_cells, n_slices = hot.shape
    out = np.full(n_cells, NONE, dtype=object)
    if n_slices == 0:
        return out
    up = (trend_p < TREND_ALPHA) & (trend_z > 0)
    down = (trend_p < TREND_ALPHA) & (trend_z < 0)
    for side, mine, other, rising, falling in (
        ("chaud", hot, cold, up, down),
        ("froid", cold, hot, down, up),
    ):
        count = mine.sum(axis=1)
        often = count >= SHARE * n_slices
        last = mine[:, -1]
        # length of the run of significant slices that ends with the last one
        broken = ~mine[:, ::-1]
        run = np.where(broken.any(axis=1), broken.argmax(axis=1), n_slices)
        earlier_other = (other[:, :-1]).any(axis=1)
        rules = [
            (last & often & rising, "intensification"),
            (last & often & falling, "diminution"),
            (last & often, "persistant"),
            (last & (count == 1), "nouveau"),
            (last & (run >= 2) & (count == run), "consecutif"),
            (last & earlier_other, "oscillant"),
            (last, "sporadique"),
            (~last & often & ~other[:, -1], "historique"),
        ]
        free = out == NONE
        for condition, kind in rules:
            chosen = free & condition
            out[chosen] = f"{side}_{kind}"
            free &= ~chosen
    return out
