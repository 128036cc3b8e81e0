"""The camera inventory (CSV or XLSX): identifier, name, type (fixe, dôme/PTZ, LAPI), position by longitude and
latitude (or Lambert-93 x, y) or by an address of the commune (placed with the address base), commissioning and
removal dates, optional direction (degrees from north) and range (metres).

A camera already in the inventory (same identifier) is left as it is: corrections go through the page, where
they are logged with the previous value."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from ingest import reading
from ingest.tabular import Field
from ingest.videoprotection_files import cell, open_rows
from observatoire.imports.batches import ImportReport, run_import
from observatoire.videoprotection import inventory

SOURCE = "cameras"

FIELDS: tuple[Field, ...] = (
    Field(
        "code",
        "Identifiant",
        ("identifiant", "id", "code", "numero", "camera", "id camera", "code camera"),
        "id",
        True,
    ),
    Field(
        "name",
        "Nom ou emplacement",
        ("nom", "emplacement", "libelle", "designation", "site", "lieu"),
        "text",
        True,
    ),
    Field("kind", "Type", ("type", "type camera", "categorie", "modele"), "text", True),
    Field("lon", "Longitude", ("longitude", "lon", "lng", "long"), "number"),
    Field("lat", "Latitude", ("latitude", "lat"), "number"),
    Field("x", "X Lambert-93", ("x", "x l93", "x lambert 93", "coord x"), "number"),
    Field("y", "Y Lambert-93", ("y", "y l93", "y lambert 93", "coord y"), "number"),
    Field("address", "Adresse", ("adresse", "voie", "adresse postale"), "text"),
    Field(
        "commissioned_on",
        "Mise en service",
        ("mise en service", "date mise en service", "installation", "date installation", "mise service"),
        "date",
    ),
    Field(
        "removed_on", "Dépose", ("depose", "date depose", "retrait", "date retrait", "fin de service"), "date"
    ),
    Field("direction_deg", "Direction (degrés)", ("direction", "orientation", "azimut", "cap"), "number"),
    Field("range_m", "Portée (m)", ("portee", "portee m", "rayon", "distance"), "number"),
)
_STRICT = {
    "lon": "number",
    "lat": "number",
    "x": "number",
    "y": "number",
    "commissioned_on": "date",
    "removed_on": "date",
    "direction_deg": "number",
    "range_m": "number",
}


def import_cameras(
    engine: Engine,
    path: Path,
    *,
    user: str | None = None,
    accept_valid: bool = False,
    dry_run: bool = False,
    commune: str | None = None,
) -> ImportReport:
    header, index, rows = open_rows(path, FIELDS, _STRICT)

    def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
        geocoder = None
        for line, fields in rows:
            report.rows_read += 1
            get = lambda name, fields=fields: cell(fields, index, name)  # noqa: E731
            try:
                entry = inventory.CameraEntry(
                    code=get("code"),
                    name=get("name"),
                    kind=get("kind"),
                    lon=None,
                    lat=None,
                    address=get("address"),
                    commissioned_on=_value(reading.parse_date, get, "commissioned_on"),
                    removed_on=_value(reading.parse_date, get, "removed_on"),
                    direction_deg=_value(reading.parse_decimal, get, "direction_deg"),
                    range_m=_value(reading.parse_decimal, get, "range_m"),
                )
                lon, lat = (_value(reading.parse_decimal, get, n) for n in ("lon", "lat"))
                x, y = (_value(reading.parse_decimal, get, n) for n in ("x", "y"))
            except _Bad as bad:
                report.error(
                    line, inventory.FIELD_LABELS.get(bad.field, bad.field), get(bad.field), bad.message
                )
                report.rejected += 1
                continue
            if lon is None and x is not None and y is not None:
                from observatoire.projection import to_wgs84

                lon, lat = to_wgs84().transform(x, y)
            if (lon is None or lat is None) and entry.address:
                if geocoder is None:
                    from ingest.geocoding import load_geocoder

                    geocoder = load_geocoder(conn, (commune or "04112").removeprefix("COM:"))
                found = geocoder.match(entry.address)
                if found:
                    lon, lat = found.lon, found.lat
            entry.lon, entry.lat = lon, lat
            faults = inventory.problems(entry)
            if faults:
                for name, message in faults:
                    report.error(line, inventory.FIELD_LABELS[name], None, message)
                report.rejected += 1
                continue
            if inventory.insert(conn, entry, user=user, batch_id=batch_id) is None:
                report.duplicates += 1
            else:
                report.inserted += 1

    return run_import(engine, SOURCE, Path(path), load, user=user, accept_valid=accept_valid, dry_run=dry_run)


class _Bad(Exception):
    def __init__(self, field: str, message: str):
        self.field, self.message = field, message


def _value(parse, get, name: str):
    try:
        return parse(get(name))
    except ValueError as exc:
        raise _Bad(name, str(exc)) from None
