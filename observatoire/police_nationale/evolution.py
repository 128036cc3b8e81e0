"""Evolution tables of the diagnostic from local état 4001 counts (AVIP and atteintes aux biens)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire.police_nationale import indicators
from observatoire.police_nationale.comparisons import fr_number

COLUMNS = (
    "grouping",
    "category",
    "label",
    "parent",
    "indexes",
    "year_from",
    "count_from",
    "year_to",
    "count_to",
    "difference",
    "change_pct",
    "months_from",
    "months_to",
    "source",
)
SOURCE_LINE = "Source : extractions locales de l'état 4001 (faits constatés), regroupements du diagnostic."


def _counts(
    engine: Engine, territory: str, years: list[int], service: str | None
) -> tuple[pd.DataFrame, dict]:
    where = "territory_code = :t AND year = ANY(:y)" + (" AND service = :s" if service is not None else "")
    params = {"t": territory, "y": years, "s": service}
    with engine.connect() as conn:
        counts = pd.read_sql(
            sa.text(
                f"SELECT year, month, index_number, sum(count) AS count FROM obs.etat4001_count "
                f"WHERE {where} GROUP BY year, month, index_number"
            ),
            conn,
            params=params,
        )
        months = dict(
            conn.execute(
                sa.text(
                    f"SELECT year, count(DISTINCT month) FROM obs.etat4001_count WHERE {where} GROUP BY year"
                ),
                params,
            ).all()
        )
    return counts, months


def evolution_table(
    engine: Engine, grouping: str, territory: str, year_from: int, year_to: int, *, service: str | None = None
) -> pd.DataFrame:
    """One row per category of the grouping (``dont`` lines after their parent) and a total row.

    A year without any count gives ``None`` (unknown), never 0; ``months_*`` tell how many months each
    year holds, so an incomplete year is visible next to its figure.
    """
    group = indicators.grouping(grouping)
    counts, months = _counts(engine, territory, [year_from, year_to], service)
    by_year = {
        y: counts[counts.year == y].groupby("index_number")["count"].sum().to_dict()
        for y in (year_from, year_to)
    }

    def total(year: int, indexes: tuple[int, ...]) -> int | None:
        if not months.get(year):
            return None
        return int(sum(by_year[year].get(n, 0) for n in indexes))

    rows: list[dict[str, Any]] = []
    lines = [(c.id, c.label, c.parent, c.indexes, c.source) for c in group.categories]
    lines.append(
        (
            "total",
            f"Total {group.label.lower()}",
            None,
            group.total_indexes(),
            "somme des index des catégories (chaque index compté une fois)",
        )
    )
    for cat_id, label, parent, indexes, source in lines:
        a, b = total(year_from, indexes), total(year_to, indexes)
        diff = b - a if a is not None and b is not None else None
        rows.append(
            {
                "grouping": group.id,
                "category": cat_id,
                "label": label,
                "parent": parent,
                "indexes": ", ".join(str(n) for n in indexes),
                "year_from": year_from,
                "count_from": a,
                "year_to": year_to,
                "count_to": b,
                "difference": diff,
                "change_pct": diff / a * 100 if diff is not None and a else None,
                "months_from": months.get(year_from, 0),
                "months_to": months.get(year_to, 0),
                "source": source,
            }
        )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in ("count_from", "count_to", "difference"):
        frame[col] = frame[col].astype("Int64")
    frame.attrs.update({"grouping_label": group.label, "note": group.note, "territory": territory})
    return frame


def monthly_counts(
    engine: Engine, grouping: str, territory: str, year_from: int, year_to: int, *, service: str | None = None
) -> pd.DataFrame:
    """Counts per month and category (for a chart); months without data are absent, not zero."""
    group = indicators.grouping(grouping)
    counts, _ = _counts(engine, territory, list(range(year_from, year_to + 1)), service)
    out = []
    for cat in group.categories:
        part = (
            counts[counts.index_number.isin(cat.indexes)]
            .groupby(["year", "month"])["count"]
            .sum()
            .reset_index()
        )
        part["category"], part["label"] = cat.id, cat.label
        out.append(part)
    frame = pd.concat(out, ignore_index=True) if out else pd.DataFrame()
    return frame[["category", "label", "year", "month", "count"]].sort_values(["category", "year", "month"])


_INTS = ("year_from", "count_from", "year_to", "count_to", "difference", "months_from", "months_to")


def to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain Python records (JSON-ready): unknown values as None, counts as int."""
    out = []
    for row in frame.to_dict(orient="records"):
        rec = {}
        for key, value in row.items():
            if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
                rec[key] = None
            elif key in _INTS:
                rec[key] = int(value)
            elif key == "change_pct":
                rec[key] = float(value)
            else:
                rec[key] = value
        out.append(rec)
    return out


def text_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "Aucune donnée."
    first = frame.iloc[0]
    y0, y1 = int(first.year_from), int(first.year_to)
    lines = [
        f"{frame.attrs.get('grouping_label', '')} — {frame.attrs.get('territory', '')}",
        f"{'Catégorie':<46} {'Index':<22} {y0:>7} {y1:>7} {'Écart':>7} {'Évol.':>9}",
    ]
    for r in frame.itertuples():
        label = ("  " if r.parent else "") + r.label
        pct = (
            fr_number(r.change_pct, 1, " %") if r.change_pct is not None and not pd.isna(r.change_pct) else ""
        )
        lines.append(
            f"{label[:46]:<46} {r.indexes[:22]:<22} {_int(r.count_from):>7} {_int(r.count_to):>7} "
            f"{_signed(r.difference):>7} {pct:>9}"
        )
    m0, m1 = int(first.months_from), int(first.months_to)
    if m0 < 12 or m1 < 12:
        lines.append(f"Attention : {m0} mois en {y0}, {m1} mois en {y1} — années incomplètes.")
    if frame.attrs.get("note"):
        lines.append(frame.attrs["note"])
    lines.append(SOURCE_LINE)
    return "\n".join(lines)


def _int(v: Any) -> str:
    return "n.d." if v is None or pd.isna(v) else f"{int(v):,}".replace(",", "\u202f")


def _signed(v: Any) -> str:
    return "n.d." if v is None or pd.isna(v) else f"{int(v):+d}"
