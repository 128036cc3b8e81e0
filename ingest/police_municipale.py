"""Police municipale: intervention exports of the municipal logbook (main courante) software.

The functions an upload page or the CLI need: :func:`preview`, :func:`validate` (dry run),
:func:`commit`, mapping profiles through :mod:`ingest.profiles`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from ingest import event_upload
from ingest.event_exports import EventSource, Progress
from ingest.tabular import ColumnMapping, Field, Preview
from observatoire.imports.batches import ImportReport
from observatoire.police_municipale.catalogue import classify_labels

SOURCE_NAME = "pm"

FIELDS: tuple[Field, ...] = (
    Field(
        "date",
        "Date (ou date et heure)",
        (
            "date",
            "date heure",
            "date et heure",
            "date intervention",
            "date de l intervention",
            "date d intervention",
            "horodatage",
            "date faits",
            "date des faits",
            "jour",
            "date debut",
            "debut",
            "date saisie",
            "date appel",
        ),
        kind="date",
        required=True,
    ),
    Field(
        "time",
        "Heure",
        (
            "heure",
            "heure intervention",
            "heure de l intervention",
            "heure debut",
            "heure de debut",
            "horaire",
            "h debut",
            "heure appel",
        ),
        kind="time",
    ),
    Field(
        "label",
        "Nature de l'intervention",
        (
            "nature",
            "nature de l intervention",
            "nature intervention",
            "nature d intervention",
            "motif",
            "motif d intervention",
            "type",
            "type d intervention",
            "type intervention",
            "categorie",
            "objet",
            "libelle",
            "intitule",
            "infraction",
        ),
        required=True,
    ),
    Field(
        "address",
        "Adresse ou lieu",
        (
            "adresse",
            "lieu",
            "localisation",
            "lieu d intervention",
            "lieu de l intervention",
            "adresse de l intervention",
            "adresse intervention",
            "voie",
            "rue",
            "emplacement",
            "lieu des faits",
        ),
    ),
    Field(
        "x",
        "X ou longitude",
        ("x", "longitude", "lon", "lng", "long", "coord x", "coordonnee x", "x lambert", "x l93", "gps x"),
        kind="number",
    ),
    Field(
        "y",
        "Y ou latitude",
        ("y", "latitude", "lat", "coord y", "coordonnee y", "y lambert", "y l93", "gps y"),
        kind="number",
    ),
    Field(
        "sector",
        "Secteur ou quartier",
        ("secteur", "quartier", "zone", "secteur quartier", "ilot", "sous secteur"),
    ),
    Field(
        "origin",
        "Origine (initiative, appel, demande)",
        (
            "origine",
            "origine de l intervention",
            "origine intervention",
            "saisine",
            "mode de saisine",
            "source",
            "initiative",
            "provenance",
        ),
    ),
    Field(
        "outcome",
        "Suite donnée",
        (
            "suite donnee",
            "suite",
            "suites",
            "suites donnees",
            "resultat",
            "issue",
            "decision",
            "suite a donner",
            "bilan",
        ),
    ),
    Field(
        "record_id",
        "N° d'intervention (identifiant du logiciel)",
        (
            "n d intervention",
            "n intervention",
            "numero",
            "numero d intervention",
            "numero intervention",
            "n",
            "num",
            "id",
            "identifiant",
            "reference",
            "ref",
            "n fiche",
            "numero de fiche",
            "n main courante",
            "numero main courante",
            "n mc",
        ),
        kind="id",
    ),
)

# The logbook's wording of the origin, folded to the four values the activity page counts (first match wins).
_ORIGINS = (
    ("initiative", re.compile(r"initiative|propre|patrouill|spontan|constat", re.IGNORECASE)),
    (
        "appel",
        re.compile(r"appel|t[ée]l[ée]phon|\b17\b|requ[ée]rant|signalement|administr[ée]", re.IGNORECASE),
    ),
    (
        "demande",
        re.compile(
            r"demande|r[ée]quisition|mairie|[ée]lu|police nationale|gendarmerie|bailleur|saisine|"
            r"courrier",
            re.IGNORECASE,
        ),
    ),
)


def origin_code(wording: str | None) -> str | None:
    if wording is None:
        return None
    return next((code for code, pattern in _ORIGINS if pattern.search(wording)), "autre")


def _prepare(rows: dict) -> None:
    """Origins classified once per distinct wording."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(rows["origin"])
    codes = pa.array([origin_code(w) for w in encoded.dictionary.to_pylist()], pa.string())
    rows["origin"] = codes.take(encoded.indices)


# Column of obs.pm_intervention ← column of the rows (see ingest.event_rows.event_columns).
_COLUMNS = (
    ("occurred_at", "occurred_at"),
    ("time_known", "time_known"),
    ("label", "label"),
    ("label_key", "label_key"),
    ("type_code", "type_code"),
    ("family_code", "family_code"),
    ("place", "place"),
    ("geom", "geom"),
    ("geocoding_status", "geocoding_status"),
    ("geocoding_score", "geocoding_score"),
    ("sector", "sector"),
    ("origin", "origin"),
    ("outcome", "outcome"),
    ("source_record_id", "record_id"),
    ("natural_key", "natural_key"),
)
INSERT_SQL = (
    f"INSERT INTO obs.pm_intervention ({', '.join(c for c, _ in _COLUMNS)}, batch_id) "
    f"SELECT {', '.join(f'e.{x}' for _, x in _COLUMNS)}, :batch_id FROM ({{events}}) e "
    "ON CONFLICT (natural_key) DO NOTHING"
)


SOURCE = EventSource(
    name=SOURCE_NAME,
    label="Police municipale",
    fields=FIELDS,
    extra_fields=("sector", "origin", "outcome"),
    classify=classify_labels,
    insert_sql=INSERT_SQL,
    table="obs.pm_intervention",
    prepare=_prepare,
    bulk_columns=_COLUMNS,
)


def preview(path: Path, n: int = 10, sheet: str | None = None) -> Preview:
    """Header, first rows, detected format and proposed mapping (field → (column, confidence)).

    A nominative header or value refuses the file here already, so the page never displays it.
    """
    return event_upload.preview(SOURCE, path, n=n, sheet=sheet)


def mapping_from(
    engine: Engine, mapping: ColumnMapping | dict[str, Any] | str | None
) -> ColumnMapping | None:
    """A mapping given as an object, a dict, or the name of a saved profile."""
    return event_upload.mapping_from(engine, SOURCE, mapping)


def commit(
    engine: Engine,
    path: Path,
    *,
    mapping: ColumnMapping | dict[str, Any] | str | None = None,
    user: str | None = None,
    accept_valid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    commune: str | None = None,
) -> ImportReport:
    """Validate and import an export in one transaction; see :func:`validate` for a dry run."""
    return event_upload.commit(
        engine,
        SOURCE,
        path,
        mapping=mapping,
        user=user,
        accept_valid=accept_valid,
        dry_run=dry_run,
        progress=progress,
        commune=commune,
    )


def validate(
    engine: Engine,
    path: Path,
    mapping: ColumnMapping | dict[str, Any] | str | None = None,
    *,
    user: str | None = None,
    progress: Progress | None = None,
    commune: str | None = None,
) -> ImportReport:
    """Everything :func:`commit` checks, nothing kept: the full report, errors included, never raised."""
    return event_upload.validate(engine, SOURCE, path, mapping, user=user, progress=progress, commune=commune)
