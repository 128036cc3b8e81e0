"""Territories (contours) and populations: the queries, and the territories an import needs created.

The files of contours and populations are read by :mod:`ingest.territories`."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire.geo_codes import TerritoryCode

log = logging.getLogger(__name__)


def ensure_territories(conn: Connection, codes: set[str], names: dict[str, str] | None = None) -> None:
    """Create missing territories (and their parents) from their codes alone, geometry left empty.

    Names come from ``names``, else the built-in tables, else the code itself until a contour import
    brings the real one.
    """
    names = names or {}
    wanted: dict[str, tuple[str, str, str | None]] = {}

    def add(territory: TerritoryCode) -> None:
        code = str(territory)
        if code in wanted:
            return
        parent = territory.parent
        wanted[code] = (
            territory.level_name,
            names.get(code) or territory.official_name or territory.code or code,
            str(parent) if parent else None,
        )
        if parent:
            add(parent)

    for code in codes:
        add(TerritoryCode.parse(code))
    existing = set(
        conn.execute(
            sa.text("SELECT code FROM obs.territory WHERE code = ANY(:c)"), {"c": list(wanted)}
        ).scalars()
    )
    # Parents first so the foreign key holds.
    order = {"pays": 0, "region": 1, "departement": 2, "groupe": 2, "commune": 3, "qpv": 4, "iris": 4}
    rows = sorted(((c, *v) for c, v in wanted.items() if c not in existing), key=lambda r: order[r[1]])
    if rows:
        # One statement over arrays: a national file meets ~35,000 communes, row-by-row inserts crawl.
        # Parents sort first, and PostgreSQL checks the foreign key at the end of the statement.
        conn.execute(
            sa.text(
                "INSERT INTO obs.territory (code, level, name, parent_code) "
                "SELECT * FROM unnest(CAST(:codes AS text[]), CAST(:levels AS text[]), CAST(:names AS text[]), "
                "CAST(:parents AS text[])) ON CONFLICT (code) DO NOTHING"
            ),
            {
                "codes": [r[0] for r in rows],
                "levels": [r[1] for r in rows],
                "names": [r[2] for r in rows],
                "parents": [r[3] for r in rows],
            },
        )


def territory_name(engine: Engine, code: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT name FROM obs.territory WHERE code = :c"), {"c": code}).scalar()


def latest_population(engine: Engine, code: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text("""
            SELECT year, inhabitants, dwellings, census_vintage, source FROM obs.population
            WHERE territory_code = :c AND inhabitants IS NOT NULL
            ORDER BY year DESC, (source = 'insee-rp') DESC LIMIT 1"""),
                {"c": code},
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


def outlines_geojson(engine: Engine, commune: str) -> dict[str, Any]:
    """Commune outline and its IRIS and QPV, as one FeatureCollection (level in the properties)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("""
            SELECT code, level, name, ST_AsGeoJSON(geom, 6)::json AS geometry FROM obs.territory
            WHERE geom IS NOT NULL AND (code = :c OR (level IN ('iris', 'qpv') AND parent_code = :c))
            ORDER BY CASE level WHEN 'commune' THEN 0 WHEN 'iris' THEN 1 ELSE 2 END, code"""),
            {"c": commune},
        ).mappings()
        features = [
            {
                "type": "Feature",
                "geometry": r["geometry"],
                "properties": {"code": r["code"], "level": r["level"], "name": r["name"]},
            }
            for r in rows
        ]
    return {"type": "FeatureCollection", "features": features}


def is_demo(engine: Engine) -> bool:
    """Whether the database holds the synthetic demonstration data (loaded by ``observatoire demo``)."""
    with engine.connect() as conn:
        return bool(
            conn.execute(
                sa.text(
                    "SELECT EXISTS (SELECT 1 FROM obs.import_batch WHERE user_login = 'demo' AND status = 'importe')"
                )
            ).scalar()
        )


def commune_bounds(engine: Engine, commune: str) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the commune's contour, None when it is not loaded."""
    with engine.connect() as conn:
        extent = conn.execute(
            sa.text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) AS e FROM obs.territory WHERE code = :c) s"
            ),
            {"c": commune},
        ).first()
    if extent and extent[0] is not None:
        return [[extent[1], extent[0]], [extent[3], extent[2]]]
    return None


def commune_overview(engine: Engine, commune: str) -> dict[str, Any]:
    """What the home page shows: name, latest population, zones and the map's bounds."""
    with engine.connect() as conn:
        counts: dict[str, int] = dict(
            conn.execute(
                sa.text(
                    "SELECT level, count(*) FROM obs.territory WHERE parent_code = :c AND level IN ('iris', 'qpv') "
                    "GROUP BY level"
                ),
                {"c": commune},
            ).all()
        )
    bounds = commune_bounds(engine, commune)
    return {
        "code": commune,
        "name": territory_name(engine, commune),
        "population": latest_population(engine, commune),
        "bounds": bounds,
        "iris": counts.get("iris", 0),
        "qpv": counts.get("qpv", 0),
        "outlines": outlines_geojson(engine, commune),
    }
