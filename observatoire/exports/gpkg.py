"""The GeoPackage for analysts who continue in QGIS: one table per layer (Lambert-93), plus the outlines of
the commune and its IRIS, written by pyogrio."""

from __future__ import annotations

from pathlib import Path

from observatoire.exports.layers import LayerData
from observatoire.exports.snapshot import Context

# GeoPackage table names (stable: QGIS projects refer to them).
TABLES = {
    "hotspots": "points_chauds_gi",
    "hexagons": "evenements_hexagones",
    "iris": "iris_taux",
    "points": "evenements_points",
    "accidents": "sites_accidents",
    "cameras": "cameras_videoprotection",
}


def table_name(key: str) -> str:
    return TABLES.get(key, key)


def write(path: Path, layers: list[LayerData], ctx: Context) -> None:
    import pyogrio

    first = True
    for layer in layers:
        if not len(layer.frame):
            continue
        frame = layer.frame.copy()
        for col in frame.columns:
            if col != "geometry" and frame[col].dtype == object:
                frame[col] = frame[col].map(lambda v: None if v is None else str(v))
        pyogrio.write_dataframe(
            frame,
            path,
            layer=table_name(layer.key),
            driver="GPKG",
            append=not first,
            layer_options={"DESCRIPTION": f"{layer.title}. {layer.source}"},
        )
        first = False
    if len(ctx.outlines):
        pyogrio.write_dataframe(
            ctx.outlines[["code", "level", "name", "geometry"]],
            path,
            layer="contours",
            driver="GPKG",
            append=not first,
        )
