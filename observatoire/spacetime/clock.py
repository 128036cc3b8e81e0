"""The data clock: events per weekday × hour (168 cells) and per month × year.

An event whose time is a range (from … to …) is spread over the hours it may have happened in, in proportion
to the part of each hour the range covers (aoristic weighting): each event weighs 1 in all. An event with a
known day but no time is a range over its whole day.
"""

from __future__ import annotations

import numpy as np

EPOCH_ISODOW = 4  # 1 January 1970 was a Thursday
MAX_SPAN_HOURS = 24 * 14  # a longer range says nothing of the hour: spread over its first two weeks


def hour_of_week(hours: np.ndarray) -> np.ndarray:
    """Cell 0 … 167 (Monday 0 h first) of whole hours counted from 1 January 1970 0 h."""
    h = np.asarray(hours, dtype=np.int64)
    day = h // 24
    return ((day + EPOCH_ISODOW - 1) % 7) * 24 + h % 24


def aoristic(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Weight of each of the 168 weekday × hour cells: ``start`` and ``end`` in hours since 1 January 1970
    (floats); an event with ``end <= start`` is an exact time and weighs 1 in its hour."""
    start = np.asarray(start, dtype=float)
    end = np.asarray(end, dtype=float)
    end = np.minimum(end, start + MAX_SPAN_HOURS)
    out = np.zeros(168)
    exact = end <= start
    np.add.at(out, hour_of_week(np.floor(start[exact])), 1.0)
    s, e = start[~exact], end[~exact]
    if not len(s):
        return out
    first = np.floor(s)
    span = e - s
    steps = int(np.ceil(e - first).max())
    for k in range(steps):
        lo = first + k
        overlap = np.clip(np.minimum(e, lo + 1) - np.maximum(s, lo), 0.0, None)
        np.add.at(out, hour_of_week(lo), overlap / span)
    return out


def weekday_hour(day: np.ndarray, hour: np.ndarray, time_known: np.ndarray) -> np.ndarray:
    """7 × 24 table (Monday first) of events with a day (days since 1 January 1970), an hour and whether that
    hour is known; those without a known hour spread over their day."""
    day = np.asarray(day, dtype=np.int64)
    hour = np.asarray(hour, dtype=np.int64)
    known = np.asarray(time_known, dtype=bool)
    start = day * 24.0 + np.where(known, hour, 0)
    end = np.where(known, start, day * 24.0 + 24.0)
    return aoristic(start, end).reshape(7, 24)


def month_year(month: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Years and the years × 12 table of events by month (months since January 1970)."""
    month = np.asarray(month, dtype=np.int64)
    if not len(month):
        return [], np.zeros((0, 12))
    years = np.arange(month.min() // 12, month.max() // 12 + 1)
    table = np.bincount(month - years[0] * 12, minlength=len(years) * 12)[: len(years) * 12]
    return [int(1970 + y) for y in years], table.reshape(len(years), 12).astype(float)
