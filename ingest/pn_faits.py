"""Police nationale: extracts of geolocated recorded offences (date, time when known, état 4001 index or
category, address or coordinates).

Same reading, personal-data guard, geocoding and deduplication as the police municipale uploads
(:mod:`ingest.event_upload`); only the fields, the classification and the target table differ. A fact is
classified by its état 4001 index when the file gives one, else by its wording; a fact left unclassified
counts as sensitive (never drawn as a point) until an analyst attaches its wording to a category.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from ingest import event_upload
from ingest.event_exports import EventSource, Progress
from ingest.tabular import ColumnMapping, Field, Preview
from observatoire.imports.batches import ImportReport
from observatoire.police_nationale.catalogue import classify_labels

SOURCE_NAME = "pn_faits"

FIELDS: tuple[Field, ...] = (
    Field(
        "date",
        "Date des faits (ou date et heure)",
        (
            "date",
            "date des faits",
            "date faits",
            "date de commission",
            "date de debut des faits",
            "date debut faits",
            "date debut",
            "date de debut",
            "date constatation",
            "date de constatation",
            "date enregistrement",
            "date d enregistrement",
            "date heure",
            "date et heure",
            "horodatage",
            "jour",
            "date fait",
        ),
        kind="date",
        required=True,
    ),
    Field(
        "time",
        "Heure des faits",
        (
            "heure",
            "heure des faits",
            "heure faits",
            "heure de debut",
            "heure debut",
            "horaire",
            "heure de commission",
            "heure fait",
        ),
        kind="time",
    ),
    Field(
        "label",
        "Qualification ou catégorie",
        (
            "qualification",
            "nature",
            "nature de l infraction",
            "nature infraction",
            "nature des faits",
            "infraction",
            "libelle",
            "libelle infraction",
            "libelle de l infraction",
            "categorie",
            "type",
            "type de faits",
            "faits",
            "libelle index",
            "intitule",
        ),
        required=True,
    ),
    Field(
        "etat4001_index",
        "Index de l'état 4001",
        (
            "index",
            "index 4001",
            "index etat 4001",
            "etat 4001",
            "n index",
            "numero index",
            "numero d index",
            "code index",
            "index 4001 numero",
        ),
        kind="id",
    ),
    Field(
        "address",
        "Adresse ou lieu des faits",
        (
            "adresse",
            "lieu",
            "lieu des faits",
            "adresse des faits",
            "localisation",
            "voie",
            "rue",
            "adresse faits",
            "lieu faits",
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
        "record_id",
        "Référence du fait (numéro de procédure)",
        (
            "reference",
            "ref",
            "numero",
            "n",
            "num",
            "id",
            "identifiant",
            "numero de procedure",
            "n procedure",
            "n de procedure",
            "numero procedure",
            "n pv",
            "numero pv",
            "numero du fait",
            "n fait",
        ),
        kind="id",
    ),
)

# The index as files write it: ``27``, ``Index 27``, ``27 - Cambriolages de locaux d'habitations principales``.
# No braces (the SQL goes through str.format) and no ``(?:`` (``:name`` is a bind parameter): group 2.
_INDEX_RE = r"^\s*(index\s*)?([0-9][0-9]?[0-9]?)\M"

# The index column, when there is one, wins over the wording: it is the DDSP's own classification.
INSERT_SQL = rf"""
    INSERT INTO obs.pn_fact (occurred_at, time_known, label, label_key, etat4001_index, category_code, family_code,
        sensitive, place, geom, geocoding_status, geocoding_score, source_record_id, natural_key, batch_id)
    SELECT e.occurred_at, e.time_known, e.label, e.label_key, n.idx, COALESCE(ci.code, e.type_code),
        COALESCE(ci.family_code, e.family_code), COALESCE(ci.sensitive, cl.sensitive, true), e.place, e.geom,
        e.geocoding_status, e.geocoding_score, e.record_id, e.natural_key, :batch_id
    FROM ({{events}}) e
    CROSS JOIN LATERAL (
        SELECT CASE WHEN m.v::int BETWEEN 1 AND 107 THEN m.v::int END AS idx
        FROM (SELECT (regexp_match(COALESCE(e.etat4001_index, e.label), '{_INDEX_RE}', 'i'))[2] AS v) m) n
    LEFT JOIN obs.pn_fact_category ci ON n.idx = ANY(ci.etat4001_indexes)
    LEFT JOIN obs.pn_fact_category cl ON cl.code = e.type_code
    ON CONFLICT (natural_key) DO NOTHING"""


SOURCE = EventSource(
    name=SOURCE_NAME,
    label="Police nationale (faits géolocalisés)",
    fields=FIELDS,
    extra_fields=("etat4001_index",),
    classify=classify_labels,
    insert_sql=INSERT_SQL,
    table="obs.pn_fact",
    missing_label="qualification absente ; renseignez l'index de l'état 4001 ou la catégorie (par ex. "
    "« Cambriolage de logement »)",
    nothing_placed="aucun fait ne pourrait être placé",
    label_fallback="etat4001_index",
    attach_hint="Un analyste peut les rattacher à une catégorie (page Nomenclature PN) ; d'ici là ces faits "
    "restent sensibles, jamais dessinés comme des points.",
)


def _index_as_label(index: dict[str, int]) -> dict[str, int]:
    """An extract with an index column but no wording: the index is the wording."""
    if "label" not in index and "etat4001_index" in index:
        return {**index, "label": index["etat4001_index"]}
    return index


def preview(path: Path, n: int = 10, sheet: str | None = None) -> Preview:
    return event_upload.preview(SOURCE, path, n=n, sheet=sheet)


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
    """Validate and import an extract in one transaction; see :func:`validate` for a dry run."""
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
        adjust_index=_index_as_label,
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
    return event_upload.validate(
        engine,
        SOURCE,
        path,
        mapping,
        user=user,
        progress=progress,
        commune=commune,
        adjust_index=_index_as_label,
    )
