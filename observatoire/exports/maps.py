"""One entry for every map export (snapshot PNG/PDF/SVG, offline HTML, GeoPackage): check the request, refuse
an empty selection in French, build the layers for the audience, write the file atomically and record it in
the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from observatoire.errors import InputFileError
from observatoire.exports import files, layers, snapshot
from observatoire.exports.request import FORMATS, ExportRequest, check_not_empty

MEDIA_TYPES = {
    "png": "image/png",
    "pdf": "application/pdf",
    "svg": "image/svg+xml",
    "html": "text/html",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class Product:
    data: bytes | None
    written: files.Written
    layers: list[layers.LayerData]


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputFileError(f"Format inconnu : « {fmt} » (possibles : {', '.join(FORMATS)}).")
    return fmt


def prepare(
    engine: Engine, request: ExportRequest
) -> tuple[ExportRequest, list[layers.LayerData], snapshot.Context]:
    from observatoire.settings import get_settings

    request = request.checked()
    for key in request.layers:
        layers.get(key)  # an unknown layer is named before any query
    if any(layers.get(k).key != "accidents" for k in request.layers):
        check_not_empty(engine, request.effective_filter())
    built = layers.build(engine, request)
    if not any(len(layer.frame) for layer in built):
        raise InputFileError(
            "Sélection vide : aucune entité à cartographier pour ces filtres et ces couches."
        )
    commune = request.filter.territory if (request.filter.territory or "").startswith("COM:") else None
    return request, built, snapshot.context(engine, commune or get_settings().commune_code)


def render(
    engine: Engine, request: ExportRequest, fmt: str
) -> tuple[bytes, ExportRequest, list[layers.LayerData]]:
    """The file's bytes (PNG, PDF, SVG, HTML, GeoPackage), the request as checked, the layers."""
    check_format(fmt)
    request, built, ctx = prepare(engine, request)
    if fmt == "html":
        from observatoire.exports import html_map

        return html_map.render(request, built, ctx), request, built
    if fmt in ("csv", "xlsx"):
        return attribute_table(request, built, fmt), request, built
    if fmt == "gpkg":
        import tempfile

        from observatoire.exports import gpkg

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "export.gpkg"
            gpkg.write(path, built, ctx)
            return path.read_bytes(), request, built
    return snapshot.render(request, built, ctx, fmt), request, built


def attribute_table(request: ExportRequest, built: list[layers.LayerData], fmt: str) -> bytes:
    """The layers' figures without their geometry, one row per feature (CSV ``;`` UTF-8 BOM, or XLSX with
    the title above and the sources under), by :mod:`observatoire.tables`."""
    import pandas as pd

    from observatoire import tables

    parts = []
    for layer in built:
        frame = pd.DataFrame(layer.frame.drop(columns=["geometry", "colour"], errors="ignore"))
        frame.insert(0, "couche", layer.title)
        parts.append(frame)
    table = pd.concat(parts, ignore_index=True)
    if fmt == "csv":
        return tables.to_csv_bytes(table)
    source = " ".join(sorted({layer.source for layer in built})) + f" Diffusion : {request.audience}."
    return tables.to_xlsx_bytes(table, "carte", title=snapshot.subtitle_of(request), source=source)


def export(
    engine: Engine, request: ExportRequest, fmt: str, out: Path, *, ip: str | None = None
) -> files.Written:
    """Render, write ``out`` (temporary name, then rename) and record the export in the audit log."""
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():  # said before the work, not after
        raise InputFileError(
            f"Impossible d'écrire le fichier « {out} » : le dossier « {folder} » n'existe pas."
        )
    data, request, built = render(engine, request, fmt)
    written = files.write_bytes(out, data)
    record(engine, request, fmt, written, built, ip=ip)
    return written


def record(
    engine: Engine,
    request: ExportRequest,
    fmt: str,
    written: files.Written,
    built: list[layers.LayerData],
    *,
    ip: str | None = None,
) -> None:
    extra: dict[str, Any] = {
        "couches": list(request.layers),
        "orientation": request.orientation,
        "taille_cellule_m": request.cell,
    }
    files.record(
        engine,
        written,
        what=f"carte:{'+'.join(request.layers)}",
        fmt=fmt,
        audience=request.audience,
        login=request.login,
        role=request.role,
        filters=request.effective_filter().describe(),
        extra=extra,
        ip=ip,
    )
