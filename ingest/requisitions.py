"""The register of judicial requisitions (CSV or XLSX): date of the request, requesting authority,
non-nominative procedure reference, cameras concerned (identifiers separated by commas, « + » or « / »),
period of the images requested, offence category, images found, date handed over, usable for the
investigation.

No names: the personal-data guard reads every cell, and a procedure reference that looks like a name (a word
that is not a service abbreviation) is refused, naming the line and the column. One fault refuses the whole
file (nothing half-written) unless the valid lines are accepted."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from ingest import privacy
from ingest.tabular import Field
from ingest.videoprotection_files import cell, day, moment, open_rows, yes_no
from observatoire.imports.batches import ImportReport, run_import
from observatoire.videoprotection import legal, register

SOURCE = "requisitions"

FIELDS: tuple[Field, ...] = (
    Field(
        "requested_on",
        "Date de la demande",
        ("date demande", "date de la demande", "date requisition", "date de requisition", "date"),
        "date",
        True,
    ),
    Field(
        "authority",
        "Autorité requérante",
        ("autorite", "autorite requerante", "requerant", "service requerant", "service"),
        "text",
        True,
    ),
    Field(
        "procedure_ref",
        "Référence de procédure",
        ("reference", "reference procedure", "ref procedure", "numero procedure", "procedure", "pv"),
        "text",
    ),
    Field(
        "cameras",
        "Caméras concernées",
        ("cameras", "camera", "cameras concernees", "identifiants cameras"),
        "text",
        True,
    ),
    Field(
        "images_from",
        "Début de la période d'images",
        ("debut images", "debut periode", "images du", "debut", "date debut images"),
        "date",
        True,
    ),
    Field(
        "images_to",
        "Fin de la période d'images",
        ("fin images", "fin periode", "images au", "fin", "date fin images"),
        "date",
    ),
    Field(
        "category",
        "Catégorie d'infraction",
        ("categorie", "infraction", "nature", "categorie infraction"),
        "text",
    ),
    Field("images_found", "Images trouvées", ("images trouvees", "trouvees", "images disponibles"), "text"),
    Field(
        "handed_over_on",
        "Date de remise",
        ("date remise", "remise", "date de remise", "extraction remise"),
        "date",
    ),
    Field(
        "usable",
        "Exploitable",
        ("exploitable", "exploitabilite", "utile enquete", "exploitable enquete"),
        "text",
    ),
)
_STRICT = {"requested_on": "date", "images_from": "date", "images_to": "date", "handed_over_on": "date"}
_SPLIT = re.compile(r"\s*[,+/|]\s*|\s+et\s+")


def reference_problem(reference: str | None) -> str | None:
    """Why a reference is refused: personal data of the guard's rules, or a word that may be a name."""
    if not reference or not reference.strip():
        return None
    rule = privacy.value_rule(reference)
    if rule:
        return f"ressemble à une donnée personnelle ({rule})"
    return legal.reference_problem(reference)


def import_requisitions(
    engine: Engine,
    path: Path,
    *,
    user: str | None = None,
    accept_valid: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    header, index, rows = open_rows(path, FIELDS, _STRICT)
    column = {f.name: header[index[f.name]] if f.name in index else f.label for f in FIELDS}

    def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
        cameras = register.camera_ids(conn)
        for line, fields in rows:
            report.rows_read += 1
            get = lambda name, fields=fields: cell(fields, index, name)  # noqa: E731
            faults: list[tuple[str, str]] = []
            parsed: dict = {}
            for name, parse in (
                ("requested_on", day),
                ("images_from", moment),
                ("images_to", moment),
                ("handed_over_on", day),
                ("images_found", yes_no),
            ):
                try:
                    parsed[name] = parse(get(name))
                except ValueError as exc:
                    faults.append((name, str(exc)))
            entry = register.RequisitionEntry(
                requested_on=parsed.get("requested_on"),
                authority=get("authority"),
                images_from=parsed.get("images_from"),
                images_to=parsed.get("images_to"),
                cameras=[c for c in _SPLIT.split(get("cameras") or "") if c],
                procedure_ref=get("procedure_ref"),
                category=get("category"),
                images_found=parsed.get("images_found"),
                handed_over_on=parsed.get("handed_over_on"),
                usable=get("usable"),
            )
            if (
                entry.images_to is not None
                and entry.images_to.time() == entry.images_to.min.time()
                and get("images_to")
                and len(get("images_to") or "") <= 10
            ):
                entry.images_to = entry.images_to.replace(hour=23, minute=59)  # a day alone: to its end
            personal = reference_problem(entry.procedure_ref)
            if personal:
                faults.append(("procedure_ref", personal))
            faults += [f for f in register.problems(entry, cameras) if f[0] not in {n for n, _ in faults}]
            if faults:
                for name, message in faults:
                    report.error(
                        line,
                        column.get(name, register.FIELD_LABELS[name]),
                        get(name) if name != "procedure_ref" else None,
                        message,
                    )
                report.rejected += 1
                continue
            if register.insert(conn, entry, cameras, user=user, batch_id=batch_id) is None:
                report.duplicates += 1
            else:
                report.inserted += 1

    return run_import(engine, SOURCE, Path(path), load, user=user, accept_valid=accept_valid, dry_run=dry_run)
