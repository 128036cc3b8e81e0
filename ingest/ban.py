"""The Base Adresse Nationale (BAN) CSV of a département, loaded for geocoding.

Official columns (``adresses-04.csv``): ``id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;
nom_commune;…;lon;lat;…``, ``;``-separated, UTF-8. A newer file of the same département updates the
addresses it shares with the loaded one (same ``id``) and adds the others.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ingest import reading
from ingest.geocoding import normalise_rep, street_key
from observatoire.errors import InputFileError
from observatoire.imports.batches import ImportReport, run_import

SOURCE_NAME = "ban"
REQUIRED = ("id", "numero", "nom_voie", "code_insee", "lon", "lat")
OPTIONAL = ("rep", "code_postal", "nom_commune")


def import_ban(
    engine: Engine, path: Path, *, user: str | None = None, dry_run: bool = False, accept_valid: bool = False
) -> ImportReport:
    path = Path(path)
    table = reading.open_table(path, expected={"nom_voie", "lon", "lat"})
    positions = {name.lower(): i for i, name in enumerate(table.header)}
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        raise InputFileError(
            f"{path.name} n'a pas les colonnes de la BAN : {', '.join(missing)} manquante(s) (colonnes trouvées : "
            f"{', '.join(table.header)}). Téléchargez le fichier « adresses-DD.csv » sur adresse.data.gouv.fr."
        )

    def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
        idx = {c: positions.get(c) for c in REQUIRED + OPTIONAL}
        keys: dict[str, str] = {}
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE ban_stage (id text, code_insee text, numero int, rep text, nom_voie text, "
                "street_key text, code_postal text, nom_commune text, lon float8, lat float8) ON COMMIT DROP"
            )
            with cur.copy("COPY ban_stage FROM STDIN") as copy:
                for line, row in reading.iter_rows(table):
                    report.rows_read += 1
                    values = {
                        c: row[i].strip() if i is not None and i < len(row) else "" for c, i in idx.items()
                    }
                    get = values.__getitem__
                    try:
                        lon, lat = float(get("lon")), float(get("lat"))
                        numero = int(get("numero")) if get("numero") else None
                    except ValueError:
                        report.error(
                            line,
                            "lon/lat/numero",
                            f"{get('lon')} ; {get('lat')} ; {get('numero')}",
                            "nombre attendu (point décimal) ; le fichier n'est pas un export BAN intact",
                        )
                        report.rejected += 1
                        continue
                    name = get("nom_voie")
                    if not name or not get("id") or not (-180 <= lon <= 180 and -90 <= lat <= 90):
                        report.error(
                            line, "nom_voie/id/lon/lat", get("id"), "adresse incomplète ou hors WGS84"
                        )
                        report.rejected += 1
                        continue
                    if name not in keys:
                        keys[name] = street_key(name)
                    copy.write_row(
                        (
                            get("id"),
                            get("code_insee").zfill(5),
                            numero,
                            normalise_rep(get("rep")),
                            name,
                            keys[name],
                            get("code_postal") or None,
                            get("nom_commune") or None,
                            lon,
                            lat,
                        )
                    )
        if report.errors_total and not accept_valid:
            return
        res = conn.execute(
            sa.text("""
            INSERT INTO obs.ban_address AS a (id, code_insee, numero, rep, nom_voie, street_key, code_postal,
                nom_commune, geom, batch_id)
            SELECT DISTINCT ON (id) id, code_insee, numero, rep, nom_voie, street_key, code_postal, nom_commune,
                   ST_SetSRID(ST_MakePoint(lon, lat), 4326), :b FROM ban_stage
            ON CONFLICT (id) DO UPDATE SET code_insee = EXCLUDED.code_insee, numero = EXCLUDED.numero,
                rep = EXCLUDED.rep, nom_voie = EXCLUDED.nom_voie, street_key = EXCLUDED.street_key,
                code_postal = EXCLUDED.code_postal, nom_commune = EXCLUDED.nom_commune, geom = EXCLUDED.geom,
                batch_id = EXCLUDED.batch_id
            WHERE (a.numero, a.rep, a.nom_voie, a.code_postal, a.nom_commune) IS DISTINCT FROM
                  (EXCLUDED.numero, EXCLUDED.rep, EXCLUDED.nom_voie, EXCLUDED.code_postal, EXCLUDED.nom_commune)
               OR NOT ST_Equals(a.geom, EXCLUDED.geom)"""),
            {"b": batch_id},
        )
        report.inserted = res.rowcount
        report.duplicates = report.rows_read - report.rejected - report.inserted
        report.extra["communes"] = conn.execute(
            sa.text("SELECT count(DISTINCT code_insee) FROM ban_stage")
        ).scalar()

    return run_import(engine, SOURCE_NAME, path, load, user=user, dry_run=dry_run, accept_valid=accept_valid)
