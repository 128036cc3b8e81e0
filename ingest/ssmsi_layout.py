"""Recognising the layouts of the SSMSI bases from their headers, and the edition from the file name.

Layouts met in the wild:

- *long* bases, one row per territory × indicator × year: the 2023 edition
  (``classe;annee;Code.département;…;faits;POP;LOG;tauxpourmille``), the 2024 communal base
  (``CODGEO_2024;annee;classe;unité.de.compte;valeur.publiée;faits;tauxpourmille;complementinfoval;…``),
  the 2025+ bases (``indicateur;unite_de_compte;nombre;taux_pour_mille;est_diffuse;insee_pop…``) and
  their camelCase re-exports (``codeDepartement;…;tauxPourMille;inseePop``);
- *wide* pivots, one row per commune × year and one column of counts per indicator;
- the *appli territoriale* tables of the SSMSI's map application: a rate per 1,000 only (``diff_tx``),
  indicator as a number (``indictr``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from observatoire.errors import InputFileError
from observatoire.police_nationale import indicators
from observatoire.text import normalise_header


def header_key(name: str) -> str:
    """``Code.département`` / ``Code_departement`` / ``codeDepartement`` → ``codedepartement``."""
    return normalise_header(name).replace(" ", "")


_ALIASES: dict[str, tuple[str, ...]] = {
    "departement": ("codedepartement", "codedep", "dep"),
    "region": ("coderegion", "codereg", "reg"),
    "year": ("annee", "an", "year"),
    "indicator": ("classe", "indicateur"),
    "unit": ("unitedecompte",),
    "count": ("faits", "nombre"),
    "rate": ("tauxpourmille",),
    "published": ("valeurpubliee", "estdiffuse"),
    "complement_value": ("complementinfoval", "complementinfonombre"),
    "complement_rate": ("complementinfotaux",),
    "inhabitants": ("pop", "inseepop"),
    "inhabitants_vintage": ("millpop", "inseepopmillesime"),
    "dwellings": ("log", "inseelog"),
    "dwellings_vintage": ("milllog", "inseelogmillesime"),
}
# Columns of the known pivots that are neither keys nor indicators.
_PIVOT_EXTRAS = {"sommeligne", "intervallepopulation", "total", "libgeo", "libelle", "nom", "commune"}

# Indicator numbers of the SSMSI map application (its libelles.RData), 2016–2021 tables.
APPLI_INDICATORS = {
    2: "cbv",
    3: "cbv_intrafamiliaux",
    4: "cbv_autres",
    5: "violences_sexuelles",
    6: "vols_avec_armes",
    7: "vols_violents_sans_arme",
    8: "vols_sans_violence_personnes",
    9: "cambriolages_logement",
    10: "vols_vehicules",
    11: "vols_dans_vehicules",
    12: "vols_accessoires_vehicules",
}

EXPECTED_TEXT = (
    "base longue : un code de territoire (CODGEO_AAAA, Code.département ou Code.région), annee, classe ou "
    "indicateur, faits ou nombre (et, selon l'édition, unité.de.compte, valeur.publiée/est_diffuse, "
    "tauxpourmille, complementinfoval, POP/insee_pop, millPOP, LOG, millLOG) ; tableau croisé : CODGEO_AAAA, "
    "annee, POP et une colonne par indicateur ; application territoriale : insee, diff_tx, indictr, annee"
)


@dataclass
class Layout:
    kind: str  # "long", "wide" or "appli"
    level: str  # "commune", "departement" or "region"
    columns: dict[str, int]  # canonical field → position in the header
    indicator_columns: dict[int, str] = field(default_factory=dict)  # wide: position → indicator id
    ignored: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # wide: columns that are no known indicator


def detect_layout(header: list[str]) -> Layout:
    keys = [header_key(h) for h in header]
    columns: dict[str, int] = {}
    for pos, key in enumerate(keys):
        if "commune" not in columns and (
            key.startswith("codgeo") or key in ("codecommune", "codeinsee", "insee")
        ):
            columns["commune"] = pos
            continue
        for name, aliases in _ALIASES.items():
            if name not in columns and key in aliases:
                columns[name] = pos
                break
    if {"commune", "year"} <= columns.keys() and {"difftx", "indictr"} <= set(keys):
        columns["rate"] = keys.index("difftx")
        columns["indicator"] = keys.index("indictr")
        return Layout("appli", "commune", columns)
    level = next((lv for lv in ("commune", "departement", "region") if lv in columns), None)
    if level is None or "year" not in columns:
        raise _unknown(header)
    if "indicator" in columns:
        if "count" not in columns:
            raise _unknown(header)
        return Layout("long", level, columns)
    used = set(columns.values())
    layout = Layout("wide", level, columns)
    for pos, name in enumerate(header):
        if pos in used:
            continue
        found = indicators.by_label(name)
        if found:
            layout.indicator_columns[pos] = found.id
        elif keys[pos] in _PIVOT_EXTRAS or keys[pos] in ("coderegion", "codedepartement"):
            layout.ignored.append(name)
        else:
            layout.unknown.append(name)
    if not layout.indicator_columns:
        raise _unknown(header)
    return layout


def _unknown(header: list[str]) -> InputFileError:
    return InputFileError(
        "Disposition de fichier SSMSI non reconnue. Colonnes attendues — "
        + EXPECTED_TEXT
        + ". Colonnes trouvées : "
        + ", ".join(header or ["(aucune)"])
        + "."
    )


_PRODUCED = re.compile(r"produit-le[-_]?(\d{4})-?(\d{2})-?(\d{2})", re.IGNORECASE)
_EDITION_YEAR = re.compile(r"edition[-_]?(\d{4})", re.IGNORECASE)


def edition_from_name(path: Path) -> tuple[str, date | None] | None:
    """``…-produit-le2023-07-17.csv`` → ("2023-07-17", 17/07/2023); ``…edition2026…`` → ("2026", None)."""
    name = Path(path).name
    m = _PRODUCED.search(name)
    if m:
        y, mo, d = (int(x) for x in m.groups())
        return f"{y:04d}-{mo:02d}-{d:02d}", date(y, mo, d)
    m = _EDITION_YEAR.search(name)
    if m:
        return m.group(1), None
    return None


def parse_edition(value: str) -> tuple[str, date | None]:
    """An ``--edition`` given by the user: a date (2023-07-17, 17/07/2023) or any short name."""
    from ingest.reading import parse_date

    value = value.strip()
    if not value or len(value) > 40:
        raise InputFileError(f"Édition invalide : « {value} » (une date comme 2023-07-17 ou un nom court).")
    try:
        day = parse_date(value)
    except ValueError:
        return value, None
    assert day is not None
    return day.isoformat(), day
