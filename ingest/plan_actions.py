"""A strategy's action plan: one row per fiche-action (``numero;axe;titre;statut;pilote;[partenaires;]indicateurs``),
its follow-up indicators separated by `` | ``; and the yearly values of those indicators
(``fiche;indicateur;annee;valeur;source;avancement``), entered as drafts.

Nothing is half-loaded: a missing number, a duplicated fiche, a value of the wrong type refuses the whole file
with the line and the field named.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from ingest.reading import open_table, parse_int
from ingest.ssmsi_layout import header_key
from observatoire.errors import InputFileError
from observatoire.imports.batches import ImportReport, run_import
from observatoire.strategy import entries, plan

SOURCE = "plan-actions"
VALUES_SOURCE = "plan-valeurs"

_PLAN_COLUMNS = {
    "number": ("numero", "fiche", "numerofiche", "n"),
    "axis": ("axe",),
    "title": ("titre", "intitule", "action"),
    "status": ("statut",),
    "pilot": ("pilote", "pilotes"),
    "partners": ("partenaires",),
    "indicators": ("indicateurs", "indicateursdesuivi"),
}
_VALUE_COLUMNS = {
    "fiche": ("fiche", "numero"),
    "indicator": ("indicateur", "numeroindicateur"),
    "year": ("annee",),
    "value": ("valeur",),
    "source": ("source",),
    "progress": ("avancement", "statut"),
}
_NUMBER = re.compile(r"^[0-9]{1,3}[a-z]{0,4}$")
_PERIOD = re.compile(r"(\d{4})\D+(\d{4})")


def _columns(table_header: list[str], wanted: dict[str, tuple[str, ...]], required: set[str], what: str):
    found: dict[str, int] = {}
    for pos, name in enumerate(table_header):
        key = header_key(name)
        for field, aliases in wanted.items():
            if field not in found and key in aliases:
                found[field] = pos
    missing = required - found.keys()
    if missing:
        raise InputFileError(
            f"{what} non reconnu : colonne(s) manquante(s) "
            + ", ".join(sorted(wanted[m][0] for m in missing))
            + ". Colonnes trouvées : "
            + ", ".join(table_header)
            + "."
        )
    return found


def period_of(path: Path, period: str | None) -> tuple[int, int]:
    m = _PERIOD.search(period or Path(path).stem)
    if not m:
        raise InputFileError(
            "Période de la stratégie introuvable : donnez-la avec --periode 2024-2027 (le nom du fichier n'en "
            "contient pas)."
        )
    first, last = int(m.group(1)), int(m.group(2))
    if not 2000 <= first <= last <= 2100:
        raise InputFileError(f"Période invalide : {first}–{last}.")
    return first, last


def import_plan(
    engine: Engine,
    path: Path,
    *,
    period: str | None = None,
    label: str | None = None,
    user: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Load one strategy's fiches-actions and their indicators (one transaction)."""
    path = Path(path)
    first, last = period_of(path, period)
    table = open_table(path, expected={"numero", "axe", "titre"})
    cols = _columns(
        table.header, _PLAN_COLUMNS, {"number", "axis", "title", "status", "indicators"}, "Plan d'actions"
    )

    def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
        fiches: list[plan.Fiche] = []
        seen: dict[str, int] = {}
        for line, fields in table.rows():
            report.rows_read += 1

            def get(field: str, fields: list[str] = fields) -> str:
                pos = cols.get(field)
                return fields[pos].strip() if pos is not None and pos < len(fields) else ""

            number = get("number").lower().replace(" ", "")
            bad = False
            if not number:
                report.error(line, "numero", "", "numéro de fiche manquant")
                bad = True
            elif not _NUMBER.match(number):
                report.error(line, "numero", number, "numéro de fiche illisible (attendu 7, 18bis…)")
                bad = True
            elif number in seen:
                report.error(line, "numero", number, f"fiche en double (déjà à la ligne {seen[number]})")
                bad = True
            else:
                seen[number] = line
            axis = parse_int(get("axis")) if get("axis").isdigit() else None
            if axis is None or not 1 <= axis <= 20:
                report.error(
                    line, "axe", get("axis"), "numéro d'axe manquant ou illisible (un entier de 1 à 20)"
                )
                bad = True
            if not get("title"):
                report.error(line, "titre", "", "titre manquant")
                bad = True
            status = header_key(get("status"))
            if status not in ("nouvelle", "reconduite"):
                report.error(line, "statut", get("status"), "statut attendu : nouvelle ou reconduite")
                bad = True
            indicators = [i.strip() for i in get("indicators").split(" | ") if i.strip()]
            if not indicators:
                report.error(line, "indicateurs", "", "aucun indicateur de suivi (séparés par « | »)")
                bad = True
            if bad:
                report.rejected += 1
                continue
            fiches.append(
                plan.Fiche(
                    number,
                    int(axis or 0),
                    get("title"),
                    status,
                    get("pilot") or None,
                    get("partners") or None,
                    indicators,
                )
            )
        if report.errors_total:
            return
        code = f"{first}-{last}"
        if plan.strategy_id(conn, code) is not None:
            report.error(
                None,
                None,
                code,
                f"la stratégie {code} est déjà chargée : annulez son import pour la recharger",
            )
            return
        plan.insert_strategy(conn, code, label or f"Stratégie {first}–{last}", first, last, fiches, batch_id)
        report.inserted = len(fiches)
        report.extra["indicateurs"] = sum(len(f.indicators) for f in fiches)

    return run_import(engine, SOURCE, path, load, user=user, dry_run=dry_run)


def import_values(
    engine: Engine,
    path: Path,
    *,
    strategy: str,
    user: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Load yearly values as drafts (a value already validated is refused, never overwritten)."""
    path = Path(path)
    table = open_table(path, expected={"fiche", "annee", "valeur"})
    cols = _columns(
        table.header,
        _VALUE_COLUMNS,
        {"fiche", "indicator", "year", "value", "progress"},
        "Fichier de valeurs",
    )

    def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
        sid = plan.strategy_id(conn, strategy)
        if sid is None:
            raise InputFileError(f"Stratégie inconnue : {strategy}. Chargez d'abord son plan d'actions.")
        indicators = plan.indicator_index(conn, sid)
        rows = []
        for line, fields in table.rows():
            report.rows_read += 1

            def get(field: str, fields: list[str] = fields) -> str:
                pos = cols.get(field)
                return fields[pos].strip() if pos is not None and pos < len(fields) else ""

            key = (get("fiche").lower(), parse_int(get("indicator")) if get("indicator").isdigit() else None)
            found = indicators.get(key)  # type: ignore[arg-type]
            if found is None:
                report.error(
                    line,
                    "fiche/indicateur",
                    f"{key[0]} / {get('indicator')}",
                    "indicateur inconnu dans ce plan",
                )
                report.rejected += 1
                continue
            failed = False
            year = int(get("year")) if re.fullmatch(r"20\d\d", get("year")) else 0
            if not year:
                report.error(line, "annee", get("year"), "année attendue sur quatre chiffres (2025)")
                failed = True
            try:
                value = entries.parse_value(found.kind, get("value"))
            except ValueError as exc:
                report.error(line, "valeur", get("value"), str(exc))
                failed = True
            try:
                progress = entries.parse_progress(get("progress"))
            except ValueError as exc:
                report.error(line, "avancement", get("progress"), str(exc))
                failed = True
            if failed:
                report.rejected += 1
                continue
            rows.append((found.id, year, value, get("source") or None, progress))
        if report.errors_total:
            return
        for indicator_id, year, value, source, progress in rows:
            entries.save(conn, indicator_id, year, value, source, progress, user=user, batch_id=batch_id)
            report.inserted += 1

    return run_import(engine, VALUES_SOURCE, path, load, user=user, dry_run=dry_run)
