"""From the validated rows of an export to the rows a source stores: labels classified, addresses placed,
geometry, geocoding status and deduplication key, and the report's warnings about places.

The rows come as columns (:data:`Staged`, built by either reader of :mod:`ingest.event_exports`); everything here
works once per distinct label or address, or over whole columns, so a million-row export costs about a
second. The result, :func:`event_columns`, is what a source inserts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest import columnar
from ingest.geocoding import Geocoder, normalise_address
from observatoire import label_learning, projection
from observatoire.imports.batches import ImportReport
from observatoire.label_learning import Classified
from observatoire.text import normalise_header

WGS84, LAMBERT93 = projection.WGS84, projection.LAMBERT93
LISTED_MAX = 200  # lines listed in the report for each warning kind

# The staged columns: line (int64), occurred_at (text « aaaa-mm-jj[ hh:mm:ss] »), time_known (bool), label,
# address (text, "" when empty), x, y (float64, null without a position), srid (int64, null without a position),
# record_id and the source's extra fields (text or null).
Staged = dict[str, pa.Array]


@dataclass
class Places:
    """Each row's place (normalised address), its key, and the BAN position of rows without coordinates."""

    place: pa.Array
    place_key: pa.Array
    lon: np.ndarray
    lat: np.ndarray
    score: np.ndarray


class Builder:
    """Turns the valid rows of an export, one part after the other, into the rows a source stores; what the
    report says of labels and places is gathered over all parts and written by :meth:`finish`.

    Each distinct address is normalised once (then looked up in the BAN once, when a row with it has no
    coordinates); the labels are classified beforehand (:meth:`classify`), since the import's connection is
    busy copying while the parts are built.
    """

    def __init__(
        self, conn: Connection, source: Any, geocoder: Geocoder | None, commune: str, progress: Any = None
    ) -> None:
        self.source, self.geocoder, self.progress = source, geocoder, progress
        outline = conn.execute(
            sa.text("SELECT ST_AsBinary(geom) FROM obs.territory WHERE code = :c"), {"c": f"COM:{commune}"}
        ).scalar()
        self.area = None
        if outline is not None:
            import shapely

            self.area = shapely.from_wkb(bytes(outline))
            shapely.prepare(self.area)
        self.found: dict[str, Any] = {}  # label → Classified
        self.seen: dict[str, list[int]] = {}  # label → [rows, first line]
        self.places: dict[str, tuple[str | None, str | None]] = {}  # address → (place, place key)
        self.matches: dict[str, Any] = {}  # address → BAN match or None
        self.unplaced: list[np.ndarray] = []
        self.outside: list[np.ndarray] = []

    def rows(self, staged: Staged) -> dict[str, pa.Array]:
        """The rows of :func:`event_columns` for these valid rows."""
        labels = self._classify(staged)
        places = self._place(staged)
        lon, lat, status = locate(staged, places)
        lines = staged["line"].to_numpy()
        placed = ~np.isnan(lon)
        self.unplaced.append(lines[~placed])
        if self.area is not None:
            import shapely

            inside = np.ones(len(lon), dtype=bool)
            inside[placed] = shapely.intersects_xy(
                self.area, lon[placed], lat[placed]
            )  # boundary in, as ST_Covers
            self.outside.append(lines[~inside])
        return event_columns(staged, labels, places, lon, lat, status, self.source.extra_fields)

    def classify(self, conn: Connection, labels: list[str]) -> None:
        """Classify every wording of the file at once, before its rows are copied."""
        self.found.update(
            self.source.classify(conn, [label for label in labels if label and label not in self.found])
        )

    def _classify(self, staged: Staged) -> dict[str, pa.Array]:
        labels, codes = columnar.by_distinct(staged["label"], str)
        counts = np.bincount(codes, minlength=len(labels))
        lines = staged["line"].to_numpy()
        _, first_row = np.unique(codes, return_index=True)  # codes are numbered in order of first appearance
        keys, types, families = [], [], []
        for i, label in enumerate(labels):
            c = self.found.get(label) or Classified(None, None)
            keys.append(label_learning.label_key(label))
            types.append(c.type_code)
            families.append(c.family_code)
            seen = self.seen.setdefault(label, [0, int(lines[first_row[i]])])
            seen[0] += int(counts[i])
        take = pa.array(codes)
        return {
            "label_key": pa.array(keys, pa.string()).take(take),
            "type_code": pa.array(types, pa.string()).take(take),
            "family_code": pa.array(families, pa.string()).take(take),
        }

    def _place(self, staged: Staged) -> Places:
        n = len(staged["line"])
        texts, codes = columnar.by_distinct(pc.fill_null(staged["address"], ""), str)
        without_xy = staged["srid"].is_null().to_numpy(zero_copy_only=False)
        needed = np.bincount(codes[without_xy], minlength=len(texts)) > 0
        name = self.geocoder.commune_name if self.geocoder else None
        places, keys = [], []
        lon, lat, score = (np.full(len(texts), np.nan) for _ in range(3))
        for i, text in enumerate(texts):
            if text not in self.places:
                parsed = normalise_address(text, name) if text else None
                place = (parsed.text or text.lower()) if text else None
                self.places[text] = (place, normalise_header(place) if place is not None else None)
            place, key = self.places[text]
            places.append(place)
            keys.append(key)
            if text and needed[i] and self.geocoder:
                if text not in self.matches:
                    self.matches[text] = self.geocoder.match(text)
                match = self.matches[text]
                if match:
                    lon[i], lat[i], score[i] = match.lon, match.lat, match.score
            if self.progress and i % 5000 == 0:
                self.progress("geocodage", i / max(len(texts), 1))
        take = pa.array(codes) if n else pa.array([], pa.int64())
        return Places(
            pa.array(places, pa.string()).take(take),
            pa.array(keys, pa.string()).take(take),
            lon[codes],
            lat[codes],
            score[codes],
        )

    def finish(self, report: ImportReport) -> None:
        """The report's lists and warnings: labels outside the nomenclature (most frequent first, with a
        suggestion; kept unclassified), no BAN, rows placed nowhere, points outside the commune."""
        unknown = [
            {
                "libelle": label,
                "lignes": n,
                "premiere_ligne": first,
                "suggestion": self.found[label].suggestion,
            }
            for label, (n, first) in self.seen.items()
            if label in self.found and self.found[label].type_code is None
        ]
        unknown += [
            {"libelle": label, "lignes": n, "premiere_ligne": first, "suggestion": None}
            for label, (n, first) in self.seen.items()
            if label not in self.found
        ]
        if unknown:
            unknown.sort(key=lambda u: (-u["lignes"], u["premiere_ligne"]))
            report.extra["libelles_inconnus"] = unknown[:LISTED_MAX]
            report.warnings.append(
                f"{len(unknown)} libellé(s) absent(s) de la nomenclature, gardé(s) « non classé(s) » : "
                + "; ".join(
                    f"« {u['libelle']} » ({u['lignes']} ligne(s))"
                    + (f", peut-être « {u['suggestion']} »" if u["suggestion"] else "")
                    for u in unknown[:10]
                )
                + f". {self.source.attach_hint}"
            )
        if self.geocoder is None or not len(self.geocoder):
            report.warnings.append(
                "La Base Adresse Nationale de la commune n'est pas chargée (observatoire import "
                "ban) : les adresses sans coordonnées restent non géolocalisées."
            )
        unplaced = np.concatenate(self.unplaced) if self.unplaced else np.zeros(0, dtype=np.int64)
        report.extra["non_geolocalises"] = len(unplaced)
        if len(unplaced):
            report.extra["lignes_non_geolocalisees"] = unplaced[:LISTED_MAX].tolist()
            report.warnings.append(
                f"{len(unplaced)} ligne(s) non géolocalisée(s) (adresse absente ou introuvable dans la BAN) : gardées, "
                f"comptées dans les statistiques mais absentes des cartes. Lignes : "
                + ", ".join(map(str, unplaced[:30].tolist()))
                + (" …" if len(unplaced) > 30 else "")
            )
        if self.area is None:
            report.extra["controle_commune"] = "contour de la commune non chargé : positions non contrôlées"
            return
        outside = np.concatenate(self.outside) if self.outside else np.zeros(0, dtype=np.int64)
        report.extra["hors_commune"] = len(outside)
        if len(outside):
            report.extra["lignes_hors_commune"] = outside[:LISTED_MAX].tolist()
            report.warnings.append(
                f"{len(outside)} point(s) hors de la commune (gardés ; vérifiez les coordonnées) : "
                "lignes " + ", ".join(map(str, outside[:30].tolist())) + (" …" if len(outside) > 30 else "")
            )


STATUSES = pa.array(["coordonnees", "geocode", "non_geolocalise"])


def locate(staged: Staged, places: Places) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """(longitude, latitude, status) of each row: its own coordinates (Lambert-93 projected to WGS84), else
    its address' BAN position; NaN and ``non_geolocalise`` for neither."""
    srid = staged["srid"].fill_null(0).to_numpy(zero_copy_only=False)
    x = staged["x"].fill_null(np.nan).to_numpy(zero_copy_only=False)
    y = staged["y"].fill_null(np.nan).to_numpy(zero_copy_only=False)
    lon = np.where(srid == WGS84, x, places.lon)
    lat = np.where(srid == WGS84, y, places.lat)
    l93 = srid == LAMBERT93
    if l93.any():
        lon[l93], lat[l93] = projection.to_wgs84().transform(x[l93], y[l93])
    code = np.where(srid != 0, 0, np.where(np.isnan(places.lon), 2, 1))
    return lon, lat, STATUSES.take(pa.array(code))


def ewkb_points(lon: np.ndarray, lat: np.ndarray) -> pa.Array:
    """EWKB of WGS84 points, as PostGIS reads them in a binary ``COPY``; null where NaN."""
    n = len(lon)
    record = np.dtype([("order", "u1"), ("kind", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")])
    points = np.zeros(n, dtype=record)
    points["order"], points["kind"], points["srid"] = 1, 0x20000001, WGS84  # little endian, point with SRID
    points["x"], points["y"] = lon, lat
    offsets = np.arange(0, (n + 1) * record.itemsize, record.itemsize, dtype=np.int32)
    valid = ~(np.isnan(lon) | np.isnan(lat))
    mask = pa.array(valid).buffers()[1] if not valid.all() else None
    return pa.Array.from_buffers(
        pa.binary(), n, [mask, pa.py_buffer(offsets), pa.py_buffer(points)], null_count=int((~valid).sum())
    )


def _float_text(value: float) -> str:
    """A float as PostgreSQL prints a float8 (shortest exact digits, no trailing « .0 »), so the keys stay those
    of the rows stored before."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def natural_keys(staged: Staged, label_key: pa.Array, place_key: pa.Array) -> pa.Array:
    """The deduplication key: ``n:`` and the software's record id, else ``k:`` with the minute, the label
    and the place (or the coordinates as written)."""
    when = staged["occurred_at"]
    minute = pc.if_else(
        pc.greater(pc.utf8_length(when), 10),
        pc.utf8_slice_codeunits(pc.replace_substring(when, " ", "T", max_replacements=1), 0, 16),
        pc.binary_join_element_wise(when, "T00:00", ""),
    )
    where = place_key
    no_place = place_key.is_null().to_numpy(zero_copy_only=False) & staged["x"].is_valid().to_numpy(
        zero_copy_only=False
    )
    if no_place.any():
        rows = np.flatnonzero(no_place)
        x, y = staged["x"].to_numpy(zero_copy_only=False), staged["y"].to_numpy(zero_copy_only=False)
        texts = {}
        for r in rows:
            pair = (x[r], y[r])
            if pair not in texts:
                texts[pair] = f"{_float_text(float(pair[0]))},{_float_text(float(pair[1]))}"
        filled = np.array(place_key.to_pylist(), dtype=object)
        filled[rows] = [texts[(x[r], y[r])] for r in rows]
        where = pa.array(filled, pa.string())
    key = pc.binary_join_element_wise(
        pa.scalar("k:"), minute, pa.scalar("|"), label_key, pa.scalar("|"), pc.fill_null(where, ""), ""
    )
    record = staged["record_id"]
    by_record = pc.binary_join_element_wise(pa.scalar("n:"), record, "")
    return pc.if_else(record.is_valid(), by_record, key)


def event_columns(
    staged: Staged,
    labels: dict[str, pa.Array],
    places: Places,
    lon: np.ndarray,
    lat: np.ndarray,
    status: pa.Array,
    extra_fields: tuple[str, ...],
) -> dict[str, pa.Array]:
    """The rows a source inserts: line, occurred_at (timestamp), time_known, label, label_key, type_code,
    family_code, place, geom (EWKB), geocoding_status, geocoding_score, record_id, natural_key and the extra
    fields."""
    own = staged["srid"].is_valid().to_numpy(zero_copy_only=False)
    score = np.where(own, np.nan, places.score)
    columns = {
        "line": staged["line"],
        "occurred_at": staged["occurred_at"].cast(pa.timestamp("us")),
        "time_known": staged["time_known"],
        "label": staged["label"],
        **labels,
        "place": places.place,
        "geom": ewkb_points(lon, lat),
        "geocoding_status": status,
        "geocoding_score": pa.array(score, mask=np.isnan(score)),
        "record_id": staged["record_id"],
        "natural_key": natural_keys(staged, labels["label_key"], places.place_key),
    }
    for name in extra_fields:
        columns[name] = staged[name]
    return columns
