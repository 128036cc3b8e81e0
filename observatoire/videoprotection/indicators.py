"""Indicators of the requisitions register: counts per year, month, authority, offence category, camera and
quartier; share with images found and share usable; trend; top cameras. The council reads yearly tables
protected by statistical secrecy (:mod:`observatoire.disclosure`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import disclosure
from observatoire.errors import InputFileError
from observatoire.french import MONTHS
from observatoire.videoprotection import labels

BY = ("authority", "camera", "category", "month", "year", "quartier")
BY_LABELS = {
    "authority": "Autorité requérante",
    "camera": "Caméra",
    "category": "Catégorie d'infraction",
    "month": "Mois",
    "year": "Année",
    "quartier": "Quartier (IRIS)",
}

# The key of each breakdown. Per camera and per quartier a requisition counts once for each camera (each
# quartier) it concerns; the quartier of a camera (its IRIS) is looked up once per camera, not per row.
_KEY_SQL = {
    "authority": "r.authority",
    "category": "r.category",
    "month": "to_char(r.requested_on, 'YYYY-MM')",
    "year": "extract(year FROM r.requested_on)::int::text",
    "camera": "c.code",
    "quartier": "c.quartier",
}
_CAMERAS_SQL = """WITH cams AS MATERIALIZED (SELECT c.id, c.code, COALESCE((SELECT t.name FROM obs.territory t
    WHERE t.level = 'iris' AND ST_Contains(t.geom, c.geom) LIMIT 1), 'hors IRIS') AS quartier FROM obs.video_camera c)
"""


def years_available(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [
            int(y)
            for y in conn.execute(
                sa.text(
                    "SELECT DISTINCT extract(year FROM requested_on)::int FROM obs.video_requisition ORDER BY 1"
                )
            ).scalars()
        ]


def counts(engine: Engine, years: list[int] | None, by: str) -> pd.DataFrame:
    """``key``, ``label``, ``requisitions``, ``images_found``, ``usable`` (counts), ``found_share`` and
    ``usable_share`` (of the requisitions whose answer is known), most requisitions first (months in order)."""
    if by not in BY:
        raise InputFileError(f"Ventilation inconnue « {by} » (possibles : {', '.join(BY)}).")
    per_camera = by in ("camera", "quartier")
    cond = "extract(year FROM r.requested_on)::int = ANY(:years)" if years else "true"
    source, key = "obs.video_requisition r", _KEY_SQL[by]
    if per_camera:
        # A requisition of two cameras of one quartier counts once there: rows made distinct before counting.
        distinct = "DISTINCT" if by == "quartier" else ""
        source = f"""(SELECT {distinct} r.id, r.requested_on, r.images_found, r.usable, {key} AS key
            FROM obs.video_requisition r JOIN obs.video_requisition_camera rc ON rc.requisition_id = r.id
            JOIN cams c ON c.id = rc.camera_id WHERE {cond}) r"""
        key, cond = "r.key", "true"
    with engine.connect() as conn:
        frame = pd.read_sql_query(
            sa.text(f"""{_CAMERAS_SQL if per_camera else ""}
            SELECT {key} AS key, count(*)::int AS requisitions,
                   count(*) FILTER (WHERE r.images_found)::int AS images_found,
                   count(*) FILTER (WHERE r.images_found IS NOT NULL)::int AS found_known,
                   count(*) FILTER (WHERE r.usable = 'oui')::int AS usable,
                   count(*) FILTER (WHERE r.usable <> 'inconnu')::int AS usable_known
            FROM {source} WHERE {cond} GROUP BY 1"""),
            conn,
            params={"years": list(years or [])},
        )
    frame["found_share"] = frame["images_found"] / frame["found_known"].replace(0, np.nan)
    frame["usable_share"] = frame["usable"] / frame["usable_known"].replace(0, np.nan)
    frame["label"] = frame["key"].map(_labeller(engine, by))
    if by in ("month", "year"):
        frame = frame.sort_values("key")
    else:
        frame = frame.sort_values(["requisitions", "key"], ascending=[False, True])
    return frame[
        ["key", "label", "requisitions", "images_found", "usable", "found_share", "usable_share"]
    ].reset_index(drop=True)


def _labeller(engine: Engine, by: str):
    if by == "authority":
        return lambda k: labels.AUTHORITY_LABELS.get(k, k)
    if by == "category":
        return lambda k: labels.CATEGORY_LABELS.get(k, k)
    if by == "month":
        return lambda k: f"{MONTHS[int(k[5:]) - 1]} {k[:4]}"
    if by == "camera":
        with engine.connect() as conn:
            names: dict[str, str] = dict(
                conn.execute(sa.text("SELECT code, name FROM obs.video_camera")).all()
            )
        return lambda k: f"{k} – {names.get(k, '')}"
    return lambda k: k


def summary(engine: Engine, years: list[int] | None, retention_days: int) -> dict[str, Any]:
    """Headline figures of the years chosen: total, shares, trend of the last year against the one before,
    requests beyond the retention period (the top cameras: :func:`counts` by camera)."""
    cond = "extract(year FROM requested_on)::int = ANY(:years)" if years else "true"
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text(f"""
            SELECT count(*)::int AS total,
                   count(*) FILTER (WHERE images_found)::int AS found,
                   count(*) FILTER (WHERE images_found IS NOT NULL)::int AS found_known,
                   count(*) FILTER (WHERE usable = 'oui')::int AS usable,
                   count(*) FILTER (WHERE usable <> 'inconnu')::int AS usable_known,
                   count(*) FILTER (WHERE handed_over_on IS NOT NULL)::int AS handed_over,
                   count(*) FILTER (WHERE images_from::date < requested_on - :days)::int AS beyond
            FROM obs.video_requisition WHERE {cond}"""),
                {"years": list(years or []), "days": retention_days},
            )
            .mappings()
            .one()
        )
    per_year = counts(engine, years, "year")
    trend = None
    if len(per_year) >= 2:
        last, before = per_year["requisitions"].iloc[-1], per_year["requisitions"].iloc[-2]
        trend = {
            "from": per_year["key"].iloc[-2],
            "to": per_year["key"].iloc[-1],
            "change": (last - before) / before if before else None,
        }
    return {
        **dict(row),
        "found_share": row["found"] / row["found_known"] if row["found_known"] else None,
        "usable_share": row["usable"] / row["usable_known"] if row["usable_known"] else None,
        "trend": trend,
    }


def indicators_table(
    engine: Engine, years: list[int] | None = None, retention_days: int = 30
) -> pd.DataFrame:
    """The indicators as one table, one column per year (for the diagnostic report): requisitions, with
    images found, share found, usable, share usable, handed over, requests beyond the retention period."""
    chosen = years or years_available(engine)
    rows: dict[str, dict[str, Any]] = {}
    for year in chosen:
        s = summary(engine, [year], retention_days)
        for name, value in (
            ("Réquisitions judiciaires", s["total"]),
            ("dont images trouvées", s["found"]),
            ("Part avec images trouvées", s["found_share"]),
            ("dont exploitables pour l'enquête", s["usable"]),
            ("Part exploitable (réponse connue)", s["usable_share"]),
            ("Images remises", s["handed_over"]),
            ("Demandes au-delà de la durée de conservation", s["beyond"]),
        ):
            rows.setdefault(name, {})[str(year)] = value
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[str(y) for y in chosen])
    frame.index.name = "Indicateur"
    return frame.reset_index()


def council_table(engine: Engine, years: list[int], by: str, threshold: int) -> pd.DataFrame:
    """Year × ``by`` (authority or category) counts with each year's total, protected for the council:
    counts below the threshold « < 5 », and complementary cells masked so that none is recovered from the
    total (:func:`disclosure.protect`). Columns: ``year``, ``label``, ``count_label``."""
    if by not in ("authority", "category"):
        raise InputFileError("Le conseil lit les réquisitions par autorité ou par catégorie.")
    keys = list(labels.AUTHORITY_LABELS if by == "authority" else labels.CATEGORY_LABELS)
    names = labels.AUTHORITY_LABELS if by == "authority" else labels.CATEGORY_LABELS
    records: list[tuple[int, str, int]] = []
    for year in years:
        got = counts(engine, [year], by).set_index("key")["requisitions"]
        records += [(year, k, int(got.get(k, 0))) for k in keys]
        records.append((year, "__total__", int(got.sum())))
    values = np.array([r[2] for r in records], dtype=float)
    width = len(keys) + 1
    pairs = [(y * width + len(keys), [y * width + k for k in range(len(keys))]) for y in range(len(years))]
    states = disclosure.protect(values, disclosure.Sums.of(pairs), threshold)
    shown = [disclosure.shown_as(v, int(s), threshold) for v, s in zip(values, states, strict=True)]
    return pd.DataFrame(
        {
            "year": [r[0] for r in records],
            "label": [names.get(r[1], "Total") for r in records],
            "count_label": [str(int(v)) if isinstance(v, float | int) else str(v) for v in shown],
        }
    )


def holdings(engine: Engine) -> dict[str, int]:
    """What the inventory and the register hold: cameras (all, and in service today) and requisitions."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text("""
            SELECT (SELECT count(*) FROM obs.video_camera)::int AS cameras,
                   (SELECT count(*) FROM obs.video_camera WHERE removed_on IS NULL OR removed_on > current_date)::int
                       AS in_service,
                   (SELECT count(*) FROM obs.video_requisition)::int AS requisitions""")
            )
            .mappings()
            .one()
        )
    return dict(row)
