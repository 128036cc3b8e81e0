"""Series breaks between SSMSI editions, found at import.

For each other edition already loaded, the values both editions publish (same indicator, territory and
year, counts on both sides) are summed year by year; when the new edition's sum differs from the other's by
more than ``TOLERANCE`` in some common year, the two editions do not count the same thing for that indicator
(a definition change, as ``violences_sexuelles`` between the 2023 and 2026 editions: +26 % to +38 %, while
revisions move the other indicators by at most 3.5 %). The break is recorded in ``obs.pn_series_break``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from observatoire import french
from observatoire.imports.batches import ImportReport
from observatoire.police_nationale import indicators
from observatoire.police_nationale.rates import EDITION_ORDER

TOLERANCE = 0.10
# A year is compared only when the older edition sums at least this many facts on the common cells:
# below it, ordinary revisions of a few facts would read as a break.
MIN_FACTS = 500


def detect(conn: Connection, edition: str, batch_id: int, report: ImportReport) -> None:
    order = (
        conn.execute(sa.text(f"SELECT e.code FROM obs.pn_edition e ORDER BY {EDITION_ORDER}")).scalars().all()
    )
    found = []
    for other in order:
        if other == edition:
            continue
        rows = conn.execute(
            sa.text("""
            SELECT n.indicator_id, n.year, sum(n.count)::float8 AS new_sum, sum(o.count)::float8 AS old_sum,
                   count(*) AS cells
            FROM obs.pn_stat n JOIN obs.pn_stat o
              ON o.edition = :o AND o.indicator_id = n.indicator_id AND o.territory_code = n.territory_code
             AND o.year = n.year
            WHERE n.edition = :e AND n.published AND n.count IS NOT NULL AND o.published AND o.count IS NOT NULL
            GROUP BY n.indicator_id, n.year"""),
            {"e": edition, "o": other},
        ).all()
        newer_first = order.index(edition) < order.index(other)
        by_indicator: dict[str, list[tuple[int, float, int]]] = {}
        for ind, year, new_sum, old_sum, cells in rows:
            if old_sum < MIN_FACTS or new_sum < MIN_FACTS:
                continue
            after, before = (new_sum, old_sum) if newer_first else (old_sum, new_sum)
            by_indicator.setdefault(ind, []).append((year, after / before - 1, cells))
        for ind, years in by_indicator.items():
            changes = [c for _, c, _ in years]
            if max(abs(c) for c in changes) <= TOLERANCE:
                continue
            before_ed, after_ed = (other, edition) if newer_first else (edition, other)
            conn.execute(
                sa.text("""
                INSERT INTO obs.pn_series_break (indicator_id, edition_before, edition_after, first_year,
                    last_year, territories, min_change, max_change, tolerance, batch_id)
                VALUES (:i, :b, :a, :y0, :y1, :t, :lo, :hi, :tol, :batch)
                ON CONFLICT (indicator_id, edition_before, edition_after) DO UPDATE SET
                    first_year = EXCLUDED.first_year, last_year = EXCLUDED.last_year,
                    territories = EXCLUDED.territories, min_change = EXCLUDED.min_change,
                    max_change = EXCLUDED.max_change, tolerance = EXCLUDED.tolerance,
                    batch_id = EXCLUDED.batch_id"""),
                {
                    "i": ind,
                    "b": before_ed,
                    "a": after_ed,
                    "y0": min(y for y, _, _ in years),
                    "y1": max(y for y, _, _ in years),
                    "t": max(c for _, _, c in years),
                    "lo": min(changes),
                    "hi": max(changes),
                    "tol": TOLERANCE,
                    "batch": batch_id,
                },
            )
            label = indicators.BY_ID[ind].label if ind in indicators.BY_ID else ind
            found.append(
                f"{label} : éditions {before_ed} → {after_ed}, écart de "
                f"{french.signed(min(changes) * 100, 1)} % à {french.signed(max(changes) * 100, 1)} %"
                f" sur les années communes (tolérance {french.percent(TOLERANCE * 100)})"
            )
    if found:
        report.extra["ruptures_de_serie"] = found
        report.warnings.append(
            "Rupture de série (changement de définition entre éditions) : " + " ; ".join(found)
        )
