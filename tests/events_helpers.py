"""Builders for the events tests: police nationale extracts, and synthetic events written straight into
the tables (thousands of rows in one statement) with a batch of their own."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from pyproj import Transformer

HEADER = [
    "Date des faits",
    "Heure",
    "Index",
    "Qualification",
    "Adresse",
    "Longitude",
    "Latitude",
    "Référence",
]
ROWS = [
    ["12/03/2024", "22h15", "27", "Cambriolage de logement", "", "5,7871", "43,8342", "P-1"],
    ["13/03/2024", "", "", "Violences conjugales", "", "5,788", "43,835", "P-2"],
    ["14/03/2024", "01:30", "7", "", "", "5,789", "43,836", "P-3"],
    ["15/03/2024", "18:00", "", "Vol à la roulotte", "", "5,786", "43,833", "P-4"],
    ["16/03/2024", "18:00", "", "Fait sans catégorie connue", "", "5,786", "43,833", "P-5"],
    ["17/03/2024", "09:00", "46", "", "", "5,785", "43,832", "P-6"],
]

CENTRE_L93 = (930_000.0, 6_305_000.0)  # Lambert-93 metres, inside France
_TO_WGS = Transformer.from_crs(2154, 4326, always_xy=True)


def write_extract(path: Path, rows=None, header=None, sep: str = ";", encoding: str = "utf-8") -> Path:
    rows = ROWS if rows is None else rows
    text = "\n".join(sep.join(r) for r in [header or HEADER, *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def new_batch(conn, source: str = "test") -> int:
    return conn.execute(
        sa.text(
            "INSERT INTO obs.import_batch (source, file_name, sha256, status) VALUES (:s, 'synthetique', :h, 'importe') "
            "RETURNING id"
        ),
        {"s": source, "h": f"{source}-{datetime.now().timestamp()}"},
    ).scalar_one()


def insert_pn_facts(
    engine, x, y, *, category: str = "cambriolages", when=None, sensitive: bool | None = None
) -> int:
    """Insert facts at Lambert-93 positions ``x``, ``y`` (arrays); returns the batch id."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lon, lat = _TO_WGS.transform(x, y)
    n = len(x)
    if when is None:
        when = [datetime(2023, 1 + i % 12, 1 + i % 28, (18 + i) % 24, 0) for i in range(n)]
    with engine.begin() as conn:
        batch = new_batch(conn, "pn_faits")
        conn.execute(
            sa.text("""
            INSERT INTO obs.pn_fact (occurred_at, time_known, label, label_key, category_code, family_code, sensitive,
                                     geom, geocoding_status, natural_key, batch_id)
            SELECT w, true, c.label, c.code, c.code, c.family_code, COALESCE(CAST(:sens AS boolean), c.sensitive),
                   ST_SetSRID(ST_MakePoint(lo, la), 4326), 'coordonnees', :b || '-' || k, :b
            FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[]), CAST(:when AS timestamp[]))
                 WITH ORDINALITY AS u(lo, la, w, k)
            JOIN obs.pn_fact_category c ON c.code = :cat"""),
            {
                "lon": list(map(float, lon)),
                "lat": list(map(float, lat)),
                "when": list(when),
                "cat": category,
                "sens": sensitive,
                "b": batch,
            },
        )
    return batch


def square_outline(
    engine,
    code: str,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    level: str = "commune",
    parent: str | None = None,
) -> None:
    """A territory whose outline is a Lambert-93 rectangle."""
    with engine.begin() as conn:
        if parent is None and level == "commune":
            conn.execute(
                sa.text(
                    "INSERT INTO obs.territory (code, level, name) VALUES ('FRA', 'pays', 'France') "
                    "ON CONFLICT DO NOTHING"
                )
            )
            parent = "FRA"
        conn.execute(
            sa.text("""
            INSERT INTO obs.territory (code, level, name, parent_code, geom)
            VALUES (:c, :lv, :name, :p, ST_Multi(ST_Transform(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 2154), 4326)))"""),
            {"c": code, "name": code, "lv": level, "p": parent, "x0": x0, "y0": y0, "x1": x1, "y1": y1},
        )
