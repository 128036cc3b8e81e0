"""Answers of a perceived-insecurity survey: one row per anonymous respondent, coded answers and profile
(``age``, ``sexe``, ``resident``, ``csp``, ``quartier``), described by a codebook
(``variable;type;libelle;code;modalite``: one row per answer code, ``type`` ``profil`` or ``question``).

Every column must be in the codebook and every answer one of its codes (an empty cell: no answer). A column
holding free text is refused: no free text is ever stored, and it is never repeated in a message either.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from ingest.privacy import check_header
from ingest.reading import open_table
from ingest.ssmsi_layout import header_key
from observatoire.errors import InputFileError
from observatoire.imports.batches import ImportReport, run_import
from observatoire.surveys import store
from observatoire.surveys.models import PROFILE

SOURCE = "enquete"
_IGNORED = {"repondant", "id", "numero", "n"}  # a running number of the file, never stored
_CODE = re.compile(r"^[A-Za-z0-9_.+-]{1,20}$")


def _free_text(value: str) -> bool:
    return len(value) > 20 or len(re.findall(r"[^\W\d_]{2,}", value)) >= 3


def read_codebook(path: Path) -> list[store.Variable]:
    table = open_table(path, expected={"variable", "code", "modalite"})
    keys = [header_key(h) for h in table.header]
    need = {"variable", "type", "libelle", "code", "modalite"}
    if not need <= set(keys):
        raise InputFileError(
            f"{path.name} : livre de codes non reconnu. Colonnes attendues : variable, type (profil ou question), "
            "libelle, code, modalite. Colonnes trouvées : " + ", ".join(table.header) + "."
        )
    pos = {k: keys.index(k) for k in need}
    variables: dict[str, store.Variable] = {}
    for line, fields in table.rows():

        def get(k: str, fields: list[str] = fields) -> str:
            return fields[pos[k]].strip() if pos[k] < len(fields) else ""

        name, kind, code = header_key(get("variable")).replace(" ", "_"), header_key(get("type")), get("code")
        where = f"{path.name}, ligne {line}"
        if not name:
            raise InputFileError(f"{where}, colonne « variable » : nom de variable manquant.")
        if kind not in ("profil", "question"):
            raise InputFileError(
                f"{where}, colonne « type » : « {get('type')[:30]} » ; attendu « profil » ou « question » (les "
                "questions à réponse libre ne sont pas reçues)."
            )
        if not _CODE.match(code) or not get("modalite"):
            raise InputFileError(f"{where}, colonne « code » : code de réponse et modalité attendus.")
        var = variables.setdefault(name, store.Variable(name, get("libelle") or name, kind, []))
        if var.kind != kind:
            raise InputFileError(
                f"{where}, colonne « type » : la variable {name} est à la fois profil et question."
            )
        if code in dict(var.answers):
            raise InputFileError(
                f"{where}, colonne « code » : code {code} en double pour la variable {name}."
            )
        var.answers.append((code, get("modalite")))
    missing = [p for p in PROFILE if p not in variables or variables[p].kind != "profil"]
    if missing:
        raise InputFileError(
            f"{path.name} : variables de profil manquantes dans le livre de codes : {', '.join(missing)} (attendu "
            f"{', '.join(PROFILE)}, de type profil)."
        )
    if not any(v.kind == "question" for v in variables.values()):
        raise InputFileError(f"{path.name} : le livre de codes ne décrit aucune question.")
    return list(variables.values())


def import_survey(
    engine: Engine,
    path: Path,
    *,
    codebook: Path,
    code: str,
    label: str | None = None,
    fielded_on: date | None = None,
    user: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """One survey wave (``code``: ``2025``, ``vague-1``…), all or nothing."""
    path, codebook = Path(path), Path(codebook)
    variables = read_codebook(codebook)
    by_name = {v.code: v for v in variables}
    table = open_table(path, expected=set(PROFILE))
    check_header(table.header)
    columns: list[tuple[int, store.Variable | None, str]] = []
    for i, name in enumerate(table.header):
        key = header_key(name).replace(" ", "_")
        columns.append((i, by_name.get(key), name))
    absent = [p for p in PROFILE if p not in {v.code for _, v, _ in columns if v}]
    if absent:
        raise InputFileError(f"{path.name} : colonnes de profil absentes : {', '.join(absent)}.")

    def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
        answers: list[tuple[int, str, str]] = []
        respondent = 0
        for line, fields in table.rows():
            report.rows_read += 1
            respondent += 1
            bad = False
            for i, var, name in columns:
                value = fields[i].strip() if i < len(fields) else ""
                if var is None:
                    if header_key(name) in _IGNORED:
                        continue
                    if value and _free_text(value):
                        report.error(
                            line,
                            name,
                            None,
                            "texte libre : les réponses libres ne sont pas conservées ; retirez cette colonne du fichier",
                        )
                        bad = True
                    elif value:
                        report.error(line, name, None, "colonne absente du livre de codes")
                        bad = True
                    continue
                if not value:
                    continue
                if value not in dict(var.answers):
                    if _free_text(value):
                        report.error(
                            line,
                            name,
                            None,
                            "texte libre : les réponses libres ne sont pas conservées ; retirez cette colonne du fichier",
                        )
                    else:
                        codes = ", ".join(c for c, _ in var.answers)
                        report.error(
                            line,
                            name,
                            value,
                            f"réponse absente du livre de codes (codes possibles : {codes})",
                        )
                    bad = True
                    continue
                answers.append((respondent, var.code, value))
            if bad:
                report.rejected += 1
        if report.errors_total:
            return
        if store.survey_exists(conn, code):
            report.error(
                None,
                None,
                code,
                f"la vague « {code} » est déjà chargée : annulez son import pour la recharger",
            )
            return
        report.inserted = respondent
        store.insert(conn, code, label or f"Enquête {code}", fielded_on, variables, answers, batch_id)

    return run_import(engine, SOURCE, path, load, user=user, dry_run=dry_run)
