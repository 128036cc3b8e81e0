"""Road-safety indicators of a territory, year by year, from the imported ONISR BAAC files.

Gravity lives only in the ``usagers`` table: for a year whose ``usagers`` file was not imported (for
this territory) every gravity figure is unknown — ``<NA>`` with ``gravite_inconnue`` set — never zero.
Functions return DataFrames ready for a page, a CLI table or an export.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire.errors import InputFileError
from observatoire.geo_codes import TerritoryCode
from observatoire.road.scope import Scope, parse_scope

SOURCE_LINE = (
    "Source : ONISR, bases de données annuelles des accidents corporels de la circulation routière "
    "(BAAC), data.gouv.fr, Licence Ouverte."
)
GRAVITY_COLUMNS = (
    "accidents_mortels",
    "accidents_graves",
    "tues",
    "hospitalises",
    "blesses_legers",
    "victimes",
)
AGE_BANDS = ("Moins de 25 ans", "25 à 64 ans", "65 ans et plus", "Âge inconnu")
GRAVITY_LABELS = {2: "Tué", 3: "Blessé hospitalisé", 4: "Blessé léger"}


def parse_years(value: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``2015-2023``, ``2021`` or a (first, last) pair; None means every year loaded."""
    if value is None or value == "":
        return None
    if isinstance(value, tuple):
        first, last = value
    else:
        text = str(value).replace("–", "-").strip()
        try:
            head, _, tail = text.partition("-")
            first, last = int(head), int(tail or head)
        except ValueError as exc:
            raise InputFileError(
                f"Période non reconnue : {value!r} (attendu par ex. 2015-2023 ou 2021)."
            ) from exc
    if not 2005 <= first <= last <= 2100:
        raise InputFileError(f"Période invalide : {first}-{last} (les fichiers BAAC commencent en 2005).")
    return int(first), int(last)


def _year_bounds(years: tuple[int, int] | None) -> dict[str, int]:
    return {"y0": years[0], "y1": years[1]} if years else {"y0": 0, "y1": 9999}


def _parent_commune(conn: Connection, scope: Scope) -> str | None:
    if scope.kind != "QPV":
        return None
    parent = conn.execute(
        sa.text("SELECT parent_code FROM obs.territory WHERE code = :c"), {"c": scope.code}
    ).scalar()
    return TerritoryCode.parse(parent).code if parent else None


def loaded_years(conn: Connection, scope: Scope) -> dict[int, dict[str, bool]]:
    """For each year met in ``road_file``: whether accidents and users were loaded for the whole scope."""
    parent = _parent_commune(conn, scope)
    status: dict[int, dict[str, bool]] = {}
    for year, table, scopes in conn.execute(
        sa.text(
            "SELECT year, table_name, array_agg(DISTINCT scope) FROM obs.road_file GROUP BY year, table_name"
        )
    ):
        entry = status.setdefault(int(year), {"accidents": False, "usagers": False})
        covered = any(scope.covered_by(s, parent) for s in scopes)
        if table == "caracteristiques":
            entry["accidents"] = entry["accidents"] or covered
        elif table == "usagers":
            entry["usagers"] = entry["usagers"] or covered
    return status


def _population(conn: Connection, scope: Scope) -> list[tuple[int, int]]:
    return [
        (int(y), int(n))
        for y, n in conn.execute(
            sa.text(
                "SELECT year, inhabitants FROM obs.population WHERE territory_code = :c AND inhabitants IS NOT NULL "
                "ORDER BY (source = 'insee-rp') DESC, year"
            ),
            {"c": scope.code},
        )
    ]


def _closest(population: list[tuple[int, int]], year: int) -> tuple[int, int] | None:
    return min(population, key=lambda p: (abs(p[0] - year), -p[0])) if population else None


_YEARLY_SQL = """
WITH acc AS (
    SELECT a.id, a.year FROM obs.road_accident a WHERE {where} AND a.year BETWEEN :y0 AND :y1),
per AS (
    SELECT u.accident_id,
           count(*) FILTER (WHERE u.gravity = 2) AS killed,
           count(*) FILTER (WHERE u.gravity = 3) AS hospitalised,
           count(*) FILTER (WHERE u.gravity = 4) AS slight
    FROM obs.road_user u JOIN acc ON acc.id = u.accident_id GROUP BY u.accident_id)
SELECT acc.year, count(*) AS accidents, count(*) - count(per.accident_id) AS without_users,
       count(*) FILTER (WHERE per.killed > 0) AS fatal,
       count(*) FILTER (WHERE per.killed = 0 AND per.hospitalised > 0) AS serious,
       coalesce(sum(per.killed), 0) AS killed, coalesce(sum(per.hospitalised), 0) AS hospitalised,
       coalesce(sum(per.slight), 0) AS slight
FROM acc LEFT JOIN per ON per.accident_id = acc.id GROUP BY acc.year ORDER BY acc.year
"""


def yearly_indicators(
    engine: Engine, territory: str, years: str | tuple[int, int] | None = None
) -> pd.DataFrame:
    """One row per year: injury accidents, fatal, serious non-fatal (≥ 1 hospitalised, none killed), killed
    (within 30 days), hospitalised, slightly injured, rates per 1,000 inhabitants when the population is
    known, and the flags ``gravite_inconnue`` / ``couverture_complete``.

    Years asked for but never loaded appear with ``donnees_chargees`` false and no figures.
    """
    scope = parse_scope(territory)
    span = parse_years(years)
    where, params = scope.predicate("a")
    with engine.connect() as conn:
        status = loaded_years(conn, scope)
        counts = {
            int(r.year): r
            for r in conn.execute(sa.text(_YEARLY_SQL.format(where=where)), {**params, **_year_bounds(span)})
        }
        population = _population(conn, scope)
    wanted = (
        range(span[0], span[1] + 1)
        if span
        else sorted(set(counts) | {y for y, s in status.items() if s["accidents"]})
    )
    records = []
    for year in wanted:
        state = status.get(year, {"accidents": False, "usagers": False})
        row = counts.get(year)
        loaded = state["accidents"] or row is not None
        known = loaded and state["usagers"]
        rec: dict[str, Any] = {
            "annee": year,
            "donnees_chargees": loaded,
            "couverture_complete": state["accidents"],
            "accidents": (row.accidents if row else 0) if loaded else None,
        }
        if known:
            rec.update(
                accidents_mortels=row.fatal if row else 0,
                accidents_graves=row.serious if row else 0,
                tues=int(row.killed) if row else 0,
                hospitalises=int(row.hospitalised) if row else 0,
                blesses_legers=int(row.slight) if row else 0,
            )
            rec["victimes"] = rec["tues"] + rec["hospitalises"] + rec["blesses_legers"]
        else:
            rec.update({c: None for c in GRAVITY_COLUMNS})
        rec["gravite_inconnue"] = loaded and not known
        rec["accidents_sans_usagers"] = row.without_users if (row and known) else None
        closest = _closest(population, year)
        rec["population"], rec["annee_population"] = (
            closest[1] if closest else None,
            closest[0] if closest else None,
        )
        records.append(rec)
    frame = pd.DataFrame.from_records(
        records,
        columns=[
            "annee",
            "accidents",
            *GRAVITY_COLUMNS,
            "gravite_inconnue",
            "accidents_sans_usagers",
            "donnees_chargees",
            "couverture_complete",
            "population",
            "annee_population",
        ],
    )
    for col in (
        "annee",
        "accidents",
        *GRAVITY_COLUMNS,
        "accidents_sans_usagers",
        "population",
        "annee_population",
    ):
        frame[col] = frame[col].astype("Int64")
    for col in ("gravite_inconnue", "donnees_chargees", "couverture_complete"):
        frame[col] = frame[col].astype(bool)
    frame["part_accidents_graves"] = frame["accidents_graves"] / frame["accidents"].where(
        frame["accidents"] > 0
    )
    frame["accidents_pour_1000"] = frame["accidents"] / frame["population"] * 1000
    frame["victimes_pour_1000"] = frame["victimes"] / frame["population"] * 1000
    frame.attrs.update(territoire=scope.code, source=SOURCE_LINE)
    return frame


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (``<NA>``/NaN → None, numpy scalars → Python), for JSON and callbacks."""
    out = []
    for rec in frame.astype(object).to_dict("records"):
        out.append(
            {
                k: (
                    None
                    if v is None or (not isinstance(v, str | list | dict) and pd.isna(v))
                    else v.item()
                    if hasattr(v, "item")
                    else v
                )
                for k, v in rec.items()
            }
        )
    return out
