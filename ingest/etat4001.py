"""Local état 4001 extracts (from the DDSP): monthly counts by index for a circonscription.

Expected columns, any order, names as written by hand or by a spreadsheet export: ``annee``, ``mois``,
``index`` (1–107), ``nombre`` (faits constatés), optionally ``service`` / ``circonscription`` and the
index label (ignored: the catalogue has it). ``mois`` may also hold ``2023-06`` / ``06/2023`` when there
is no ``annee`` column.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from ingest.reading import open_table, parse_int
from ingest.ssmsi_layout import header_key
from ingest.staging import copy_rows
from observatoire.errors import InputFileError
from observatoire.imports.batches import ImportReport, run_import
from observatoire.police_nationale import indicators
from observatoire.territories import ensure_territories

SOURCE = "etat4001"

_ALIASES = {
    "year": ("annee", "an", "year"),
    "month": ("mois", "month", "periode"),
    "index": (
        "index",
        "numindex",
        "nindex",
        "noindex",
        "numeroindex",
        "index4001",
        "indexetat4001",
        "numerodindex",
    ),
    "count": ("nombre", "faits", "faitsconstates", "nb", "count", "valeur"),
    "service": ("service", "circonscription", "csp", "unite"),
}
_KNOWN_EXTRAS = {"libelle", "libelleindex", "libelledelindex", "indexdeletat4001", "intitule", "label"}
_PERIOD = re.compile(r"^\s*(?:(\d{4})[-/.](\d{1,2})|(\d{1,2})[-/.](\d{4}))\s*$")


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    found: dict[str, int] = {}
    ignored = []
    for pos, name in enumerate(header):
        key = header_key(name)
        for field, aliases in _ALIASES.items():
            if field not in found and key in aliases:
                found[field] = pos
                break
        else:
            ignored.append(name)
    if not {"month", "index", "count"} <= found.keys():
        raise InputFileError(
            "Extraction état 4001 non reconnue. Colonnes attendues : annee, mois, index (numéro 1 à 107), nombre "
            "(et, si besoin, service ou circonscription) ; « mois » peut aussi valoir 2023-06 sans colonne annee. "
            "Colonnes trouvées : " + ", ".join(header) + "."
        )
    return found, ignored


def _period(year_raw: str | None, month_raw: str) -> tuple[int, int]:
    if year_raw is None:
        m = _PERIOD.match(month_raw)
        if not m:
            raise ValueError("période attendue sous la forme 2023-06 ou 06/2023 (ou colonnes annee et mois)")
        year, month = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(4)), int(m.group(3)))
    else:
        year, month = parse_int(year_raw) or 0, parse_int(month_raw) or 0
        if year < 100:
            year += 2000
    if not 2000 <= year <= 2100:
        raise ValueError(f"année {year} hors de 2000–2100")
    if not 1 <= month <= 12:
        raise ValueError(f"mois {month} hors de 1–12")
    return year, month


def import_etat4001(
    engine: Engine,
    path: Path,
    *,
    territory: str,
    service: str = "",
    user: str | None = None,
    accept_valid: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Import monthly état 4001 counts for ``territory`` (``COM:04112``…)."""
    path = Path(path)
    table = open_table(path, expected={"index", "mois", "annee", "nombre"})
    cols, ignored = _columns(table.header)

    def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
        if ignored:
            unknown = [c for c in ignored if header_key(c) not in _KNOWN_EXTRAS]
            report.warnings.append(
                "Colonnes ignorées : " + ", ".join(ignored) + (" (inconnues)" if unknown else "")
            )
        rows, seen = [], {}
        for line, fields in table.rows():
            report.rows_read += 1

            def get(field: str, fields: list[str] = fields) -> str | None:
                pos = cols.get(field)
                return fields[pos].strip() if pos is not None and pos < len(fields) else None

            try:
                year, month = _period(get("year"), get("month") or "")
            except ValueError as exc:
                report.error(
                    line, "annee/mois", f"{get('year') or ''} {get('month') or ''}".strip(), str(exc)
                )
                report.rejected += 1
                continue
            raw_index = get("index") or ""
            number = re.match(r"^\s*0*(\d{1,3})\b", raw_index)
            index = int(number.group(1)) if number else None
            if index is None or index not in indicators.ETAT4001_LABELS:
                report.error(line, "index", raw_index, "numéro d'index inconnu (1 à 107 attendu)")
                report.rejected += 1
                continue
            if index in indicators.UNUSED_INDEXES:
                report.error(line, "index", raw_index, "index non utilisé dans l'état 4001 (96, 97, 99, 100)")
                report.rejected += 1
                continue
            try:
                count = parse_int(get("count"))
            except ValueError:
                count = -1
            if count is None or count < 0:
                report.error(
                    line, "nombre", get("count"), "nombre de faits invalide (entier positif ou nul attendu)"
                )
                report.rejected += 1
                continue
            svc = (get("service") or service or "").strip()[:120]
            key = (svc, year, month, index)
            if key in seen:
                report.error(
                    line, "index", raw_index, f"même service, mois et index qu'à la ligne {seen[key]}"
                )
                report.rejected += 1
                continue
            seen[key] = line
            rows.append((territory, svc, year, month, index, count, batch_id))
        if not rows or (report.errors_total and not accept_valid):
            return
        ensure_territories(conn, {territory})
        copy_rows(
            conn,
            "stage_etat4001",
            [
                ("territory_code", "text"),
                ("service", "text"),
                ("year", "int"),
                ("month", "int"),
                ("index_number", "int"),
                ("count", "int"),
                ("batch_id", "int"),
            ],
            rows,
        )
        changed = conn.exec_driver_sql("""
            SELECT count(*) FROM stage_etat4001 s JOIN obs.etat4001_count c USING
                (territory_code, service, year, month, index_number) WHERE c.count <> s.count""").scalar_one()
        inserted = conn.exec_driver_sql("""
            INSERT INTO obs.etat4001_count (territory_code, service, year, month, index_number, count, batch_id)
            SELECT * FROM stage_etat4001 ON CONFLICT DO NOTHING""").rowcount
        report.inserted = inserted
        report.duplicates = len(rows) - inserted
        if changed:
            report.warnings.append(
                f"{changed} comptage(s) déjà enregistré(s) diffèrent de ce fichier : les valeurs existantes sont "
                "conservées ; annulez l'import précédent pour les remplacer."
            )
        months = sorted({(y, m) for _, _, y, m, _, _, _ in rows})
        report.extra.update(
            {
                "territoire": territory,
                "premier_mois": f"{months[0][1]:02d}/{months[0][0]}",
                "dernier_mois": f"{months[-1][1]:02d}/{months[-1][0]}",
                "mois": len(months),
            }
        )

    return run_import(engine, SOURCE, path, load, user=user, accept_valid=accept_valid, dry_run=dry_run)
