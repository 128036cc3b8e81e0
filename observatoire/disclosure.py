"""Small-count suppression for the aggregate-only roles (BRIEF §6: anything leaving the restricted circle
is aggregated, with small counts suppressed).

A masked count is replaced by its label (« < 5 »), never kept beside it. A total is only given exactly
when nothing under it was masked; otherwise it becomes « au moins N », N being the sum of what is shown,
so no masked value can be recovered by subtraction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from observatoire.permissions import AGGREGATE_ONLY


def threshold_for(role: str | None, threshold: int | None = None) -> int | None:
    """The masking threshold of a role: the setting ``small_count_threshold`` for the aggregate-only roles,
    None (nothing masked) for the others. ``threshold`` overrides the setting."""
    if role not in AGGREGATE_ONLY:
        return None
    if threshold is not None:
        return threshold
    from observatoire.settings import get_settings

    return get_settings().small_count_threshold


def label(threshold: int) -> str:
    return f"< {threshold}"


def is_masked(count: int | float | None, threshold: int | None) -> bool:
    return threshold is not None and count is not None and count < threshold


def masked(count: int | None, threshold: int | None) -> int | str | None:
    """The count, or « < 5 » when it is under the threshold."""
    return label(threshold) if is_masked(count, threshold) else count  # type: ignore[arg-type]


def total(counts: list[int] | np.ndarray, threshold: int | None) -> int | str:
    """Exact when nothing is masked, else « au moins N » (N = sum of the shown counts), or « non détaillé »
    when every count is masked."""
    values = np.asarray(counts, dtype=float)
    if threshold is None or not (values < threshold).any():
        return int(values.sum())
    shown = int(values[values >= threshold].sum())
    return f"au moins {shown}" if shown else f"non détaillé (moins de {threshold} par zone)"


def mask_frame(
    frame: pd.DataFrame, threshold: int | None, column: str = "count", derived: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Add ``masked`` and ``count_label``; masked rows lose their count and every derived figure (rates…)."""
    frame = frame.copy()
    hidden = frame[column] < threshold if threshold is not None else pd.Series(False, index=frame.index)
    frame["masked"] = hidden
    frame["count_label"] = frame[column].map(lambda v: str(int(v)) if pd.notna(v) else "")
    if threshold is not None:
        frame.loc[hidden, "count_label"] = label(threshold)
        frame[column] = frame[column].astype("Float64").where(~hidden)
        for name in derived:
            frame[name] = frame[name].astype("Float64").where(~hidden)
    return frame


def cell_properties(count: int, threshold: int | None, **figures: Any) -> dict[str, Any]:
    """Properties of one map feature: ``count`` (int, or « < 5 »), ``masked``; the derived ``figures``
    (rates, z-scores…) are dropped when the count is masked."""
    if is_masked(count, threshold):
        return {"count": label(threshold), "masked": True}  # type: ignore[arg-type]
    return {"count": int(count), "masked": False, **figures}
