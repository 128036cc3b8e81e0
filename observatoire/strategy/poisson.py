"""Whether two counts differ more than chance would make them: the exact conditional test of two Poisson
counts (given their sum, one is binomial under equal rates)."""

from __future__ import annotations

from scipy.stats import binomtest

LEVEL = 0.05


def two_counts_p(before: int, after: int, exposure_before: float = 1.0, exposure_after: float = 1.0) -> float:
    """Two-sided p-value of equal rates for ``before`` and ``after`` counted over the given exposures."""
    total = before + after
    if total == 0:
        return 1.0
    share = exposure_after / (exposure_before + exposure_after)
    return float(binomtest(after, total, share).pvalue)


def significant(before: int, after: int, exposure_before: float = 1.0, exposure_after: float = 1.0) -> bool:
    return two_counts_p(before, after, exposure_before, exposure_after) < LEVEL
