"""Territory contours (IGN Admin Express, INSEE IRIS, ANCT QPV) and INSEE populations into ``obs.territory``
and ``obs.population``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire import geo_codes
from observatoire.errors import InputFileError
from observatoire.imports.batches import ImportReport, run_import
from observatoire.territories import ensure_territories

log = logging.getLogger(__name__)

LEVELS = ("commune", "departement", "region", "iris", "qpv")

# Property names of each level, in the order tried: the real files of IGN/INSEE/ANCT and their variants.
_PROPERTY_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "commune": (("code", "INSEE_COM", "insee", "codgeo", "CODE_INSEE"), ("nom", "NOM", "NOM_COM", "libgeo")),
    "departement": (("code", "INSEE_DEP", "CODE_DEPT", "dep"), ("nom", "NOM", "NOM_DEP", "libelle")),
    "region": (("code", "INSEE_REG", "CODE_REG", "reg"), ("nom", "NOM", "NOM_REG", "libelle")),
    "iris": (("CODE_IRIS", "code_iris", "code"), ("NOM_IRIS", "nom_iris", "nom")),
    "qpv": (("q", "code_qp", "CODE_QP", "code"), ("n", "lib_qp", "LIB_QP", "nom")),
}


def _read_features(path: Path) -> tuple[list[dict[str, Any]], str | None]:
    """Features of a GeoJSON (collection or single feature) or a GeoPackage, as GeoJSON dicts in WGS84."""
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputFileError(f"{path.name} n'est pas un GeoJSON lisible : {exc}") from exc
        if data.get("type") == "Feature":
            features = [data]
        elif data.get("type") == "FeatureCollection":
            features = data.get("features") or []
        else:
            raise InputFileError(
                f"{path.name} : GeoJSON de type {data.get('type')!r}, attendu FeatureCollection ou Feature."
            )
        crs = (data.get("crs") or {}).get("properties", {}).get("name")
        return features, crs
    if suffix == ".gpkg":
        import geopandas as gpd

        frame = gpd.read_file(path)
        crs = frame.crs.to_string() if frame.crs is not None else None
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs(4326)
        return json.loads(frame.to_json(drop_id=True))["features"], crs
    raise InputFileError(f"{path.name} : format non pris en charge (attendu .geojson, .json ou .gpkg).")


_WGS84_NAMES = {None, "EPSG:4326", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326"}


def _pick(props: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for key in keys:
        if props.get(key) not in (None, ""):
            return key, props[key]
    return None, None


def _territory_row(
    level: str, props: dict[str, Any], line: int, report: ImportReport
) -> dict[str, Any] | None:
    code_keys, name_keys = _PROPERTY_NAMES[level]
    _, raw_code = _pick(props, code_keys)
    _, name = _pick(props, name_keys)
    if raw_code is None:
        report.error(
            line,
            "/".join(code_keys),
            None,
            f"propriété de code absente (l'une de {', '.join(code_keys)} est attendue pour le niveau {level})",
        )
        return None
    raw_code = str(raw_code).strip()
    parent = None
    if level == "commune":
        if not geo_codes.is_commune_code(raw_code):
            report.error(
                line, code_keys[0], raw_code, "code INSEE de commune invalide (5 caractères, par ex. 04112)"
            )
            return None
        code, parent = (
            geo_codes.commune_code(raw_code),
            geo_codes.departement_code(geo_codes.departement_of_commune(raw_code)),
        )
    elif level == "departement":
        dep = geo_codes.normalise_departement(raw_code)
        if dep is None:
            report.error(line, code_keys[0], raw_code, "code de département inconnu")
            return None
        code, parent = geo_codes.departement_code(dep), geo_codes.region_code(geo_codes.DEPARTEMENTS[dep][1])
    elif level == "region":
        reg = raw_code.zfill(2)
        if reg not in geo_codes.REGIONS:
            report.error(line, code_keys[0], raw_code, "code de région inconnu")
            return None
        code, parent = geo_codes.region_code(reg), geo_codes.FRANCE
    elif level == "iris":
        if len(raw_code) != 9 or not geo_codes.is_commune_code(raw_code[:5]):
            report.error(
                line, code_keys[0], raw_code, "code IRIS invalide (9 caractères : code commune + 4 chiffres)"
            )
            return None
        code, parent = f"IRIS:{raw_code}", geo_codes.commune_code(raw_code[:5])
    else:  # qpv
        code = f"QPV:{raw_code.upper()}"
        communes = props.get("com") or props.get("insee_com") or []
        if isinstance(communes, str):
            communes = [c.strip() for c in communes.replace(",", " ").split()]
        parent = (
            geo_codes.commune_code(communes[0])
            if communes and geo_codes.is_commune_code(communes[0])
            else None
        )
    return {"code": code, "level": level, "name": str(name or raw_code).strip(), "parent": parent}


def _geometry_wkt(
    geometry: dict[str, Any] | None, line: int, report: ImportReport, repair: bool
) -> str | None:
    from shapely import make_valid
    from shapely.geometry import MultiPolygon, Polygon, shape
    from shapely.validation import explain_validity

    if not geometry:
        report.error(line, "geometry", None, "géométrie absente")
        return None
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError) as exc:
        report.error(line, "geometry", geometry.get("type"), f"géométrie illisible : {exc}")
        return None
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        report.error(
            line,
            "geometry",
            f"{minx:.0f}, {miny:.0f}",
            "coordonnées hors des bornes de WGS84 : le fichier "
            "est sans doute dans un autre système (Lambert-93 ?) ; reprojetez-le en EPSG:4326 ou fournissez un GeoPackage",
        )
        return None
    if not geom.is_valid:
        if not repair:
            report.error(
                line,
                "geometry",
                explain_validity(geom),
                "géométrie invalide ; corrigez-la ou relancez avec --reparer",
            )
            return None
        geom = make_valid(geom)
        report.warnings.append(f"entité {line} : géométrie réparée")
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    elif not isinstance(geom, MultiPolygon):
        polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
        flat = [p for g in polys for p in (g.geoms if isinstance(g, MultiPolygon) else [g])]
        if not flat:
            report.error(
                line, "geometry", geom.geom_type, "une surface (Polygon ou MultiPolygon) est attendue"
            )
            return None
        geom = MultiPolygon(flat)
    return geom.wkt


def import_territories(
    engine: Engine,
    path: Path,
    level: str,
    *,
    user: str | None = None,
    repair: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    if level not in LEVELS:
        raise InputFileError(f"Niveau inconnu : {level!r}. Niveaux possibles : {', '.join(LEVELS)}.")
    path = Path(path)
    features, crs = _read_features(path)
    if crs not in _WGS84_NAMES and path.suffix.lower() != ".gpkg":
        raise InputFileError(
            f"{path.name} déclare le système de coordonnées {crs!r} ; seul WGS84 (EPSG:4326) est "
            "accepté en GeoJSON. Reprojetez le fichier ou fournissez un GeoPackage."
        )

    def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
        rows = []
        for line, feature in enumerate(features, start=1):
            report.rows_read += 1
            row = _territory_row(level, feature.get("properties") or {}, line, report)
            wkt = _geometry_wkt(feature.get("geometry"), line, report, repair)
            if row and wkt:
                rows.append({**row, "wkt": wkt, "batch": batch_id})
            else:
                report.rejected += 1
        if not rows:
            return
        ensure_territories(conn, {r["parent"] for r in rows if r["parent"]})
        inserted = updated = 0
        for row in rows:
            res = conn.execute(
                sa.text("""
                INSERT INTO obs.territory AS t (code, level, name, parent_code, geom, batch_id)
                VALUES (:code, :level, :name, :parent, ST_Multi(ST_GeomFromText(:wkt, 4326)), :batch)
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, geom = EXCLUDED.geom,
                    parent_code = COALESCE(EXCLUDED.parent_code, t.parent_code), batch_id = EXCLUDED.batch_id
                WHERE t.geom IS NULL OR NOT ST_Equals(t.geom, EXCLUDED.geom) OR t.name <> EXCLUDED.name
                RETURNING (xmax = 0) AS inserted
            """),
                row,
            ).first()
            if res is None:
                continue
            if res.inserted:
                inserted += 1
            else:
                updated += 1
        report.inserted = inserted + updated
        report.duplicates = len(rows) - inserted - updated
        report.extra["mises_a_jour"] = updated

    return run_import(engine, f"territoires-{level}", path, load, user=user, dry_run=dry_run)


def import_insee_population(
    engine: Engine, path: Path, *, user: str | None = None, dry_run: bool = False
) -> ImportReport:
    """INSEE population municipale by commune, one column ``pNN_pop`` per census vintage."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(f"{path.name} : fichier illisible ({exc}).") from exc
    cols = {c.lower(): c for c in frame.columns}
    code_col = cols.get("codgeo") or cols.get("com") or cols.get("code_insee")
    pop_cols = sorted(
        c
        for c in frame.columns
        if c.lower().startswith("p") and c.lower().endswith("_pop") and c[1:3].isdigit()
    )
    if code_col is None or not pop_cols:
        raise InputFileError(
            f"{path.name} : colonnes attendues CODGEO (code commune) et pNN_POP (population par millésime) ; "
            f"colonnes trouvées : {', '.join(frame.columns)}"
        )
    name_col = cols.get("libgeo") or cols.get("libelle")

    def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
        records = []
        names = {}
        for idx, row in enumerate(frame.itertuples(index=False), start=2):
            report.rows_read += 1
            values = dict(zip(frame.columns, row, strict=True))
            insee = str(values[code_col]).strip()
            if len(insee) == 6 and insee.startswith("97") and insee[2] == insee[3]:
                # Some redistributions write overseas communes as département + number (971101 for 97101).
                insee = insee[:2] + insee[3:]
                report.extra["codes_outre_mer_corriges"] = report.extra.get("codes_outre_mer_corriges", 0) + 1
            if not geo_codes.is_commune_code(insee):
                report.error(idx, code_col, insee, "code commune INSEE invalide")
                report.rejected += 1
                continue
            code = geo_codes.commune_code(insee)
            if name_col:
                names[code] = str(values[name_col]).strip()
            for col in pop_cols:
                raw = values[col]
                if raw is None or pd.isna(raw) or str(raw).strip() == "":
                    continue
                try:
                    inhabitants = round(float(str(raw).replace(",", ".").replace(" ", "")))
                except ValueError:
                    report.error(idx, col, raw, "population non numérique")
                    continue
                vintage = 2000 + int(col[1:3])
                records.append((code, vintage, inhabitants, vintage, "insee-rp", batch_id))
        ensure_territories(conn, {r[0] for r in records} | set(names), names)
        raw_conn = conn.connection.driver_connection
        with raw_conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE stage_population (territory_code text, year int, inhabitants int, "
                "census_vintage int, source text, batch_id int) ON COMMIT DROP"
            )
            with cur.copy("COPY stage_population FROM STDIN") as copy:
                for rec in records:
                    copy.write_row(rec)
            cur.execute("""INSERT INTO obs.population (territory_code, year, inhabitants, census_vintage, source, batch_id)
                           SELECT * FROM stage_population ON CONFLICT DO NOTHING""")
            report.inserted = cur.rowcount
        report.duplicates = len(records) - report.inserted
        report.extra["valeurs"] = len(records)

    return run_import(engine, "insee-population", path, load, user=user, dry_run=dry_run)
