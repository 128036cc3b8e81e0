"""The four BAAC tables in every layout the ONISR published, turned into typed rows.

- up to 2018: ``,`` (a tab some years), latin-1, ``an`` on 2 digits, ``hrmn`` ``HHMM`` without leading
  zero, ``dep`` = INSEE code × 10 on 3 characters (``201``/``202`` for Corsica), ``com`` = 3-digit
  suffix, ``lat``/``long`` in 1/100,000 of a degree, often empty or zero;
- 2019–2021: ``;``, UTF-8, every field quoted, decimal commas, negatives written `` -1``, full INSEE
  codes, ``HH:MM``, ``id_vehicule`` with (non-breaking) spaces;
- 2022+: the accident key is ``Accident_Id`` in the first table, users get ``id_usager``.

Rows come out as tuples ready for ``COPY``; each starts with its line number so that checks run later in
SQL can still name the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from ingest.reading import TextTable, parse_decimal, parse_time
from observatoire.errors import InputFileError
from observatoire.imports.batches import ImportReport
from observatoire.road.scope import Scope, departement_of, region_of

TABLES = ("caracteristiques", "lieux", "vehicules", "usagers")

# Columns that tell the tables apart whatever the year.
_SIGNATURES = {
    "caracteristiques": {"lum", "atm", "col"},
    "lieux": {"catr", "circ"},
    "vehicules": {"catv", "senc"},
    "usagers": {"catu", "grav"},
}
_REQUIRED = {
    "caracteristiques": ("an", "mois", "jour", "hrmn", "com"),
    "lieux": ("catr",),
    "vehicules": ("num_veh", "catv"),
    "usagers": ("catu", "grav"),
}
OFFICIAL_SOURCE = (
    "les fichiers originaux de l'ONISR sur data.gouv.fr (« Bases de données annuelles des "
    "accidents corporels de la circulation routière »)"
)

_COM_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_SPACES = re.compile(r"\s+")  # \s covers the non-breaking spaces of ``id_vehicule``


@dataclass
class BaacFile:
    table: TextTable
    kind: str  # one of TABLES
    columns: dict[str, int]
    legacy: bool  # the ≤ 2018 layout (caracteristiques only differs in substance)
    key_column: str


def describe(table: TextTable) -> BaacFile:
    """Recognise which BAAC table a file holds, or refuse it with the reason."""
    name = table.path.name
    header = [h.strip().lower() for h in table.header]
    if header and header[0] == "" and len(header) > 1:
        raise InputFileError(
            f"{name} : la première colonne n'a pas de nom (colonne d'index ajoutée par un logiciel comme pandas). "
            "Ce fichier a été ré-enregistré et modifié (zéros de tête perdus, valeurs converties, souvent un "
            f"extrait partiel) : ce n'est pas un fichier BAAC original. Importez {OFFICIAL_SOURCE}."
        )
    columns = {h: i for i, h in enumerate(header)}
    kinds = [k for k, sig in _SIGNATURES.items() if sig <= columns.keys()]
    if len(kinds) != 1:
        raise InputFileError(
            f"{name} : ce n'est pas une table BAAC reconnue (caracteristiques, lieux, vehicules ou usagers). "
            f"Colonnes trouvées : {', '.join(table.header[:20])}."
        )
    kind = kinds[0]
    key = "accident_id" if "accident_id" in columns else "num_acc"
    missing = [c for c in (key, *_REQUIRED[kind]) if c not in columns]
    if missing:
        raise InputFileError(f"{name} (table {kind}) : colonne(s) absente(s) : {', '.join(missing)}.")
    legacy = "gps" in columns if kind == "caracteristiques" else "id_vehicule" not in columns
    return BaacFile(table, kind, columns, legacy, key)


def _code(raw: str) -> int | None:
    """An ONISR code: ``-1`` (« non renseigné »), empty or unreadable values (``#ERREUR``) become None."""
    value = raw.strip()
    if not value or value == "-1":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _getter(columns: dict[str, int]):
    def get(row: list[str], name: str) -> str:
        idx = columns.get(name)
        return row[idx] if idx is not None and idx < len(row) else ""

    return get


def _positions(f: BaacFile, names: tuple[str, ...]) -> tuple[list[int], int]:
    """Indexes of ``names`` in the rows; absent columns point at one empty cell padded after the last."""
    width = len(f.columns)
    return [f.columns.get(n, width) for n in names], width + 1


def _padded(row: list[str], width: int) -> list[str]:
    if len(row) < width:
        row.extend([""] * (width - len(row)))
    return row


def _accident_id(raw: str, line: int, column: str, report: ImportReport) -> int | None:
    value = raw.strip()
    if not (len(value) == 12 and value.isascii() and value.isdigit() and value.startswith("20")):
        report.error(
            line,
            column,
            value,
            "identifiant d'accident invalide (12 chiffres attendus, par ex. 201300007333)",
        )
        return None
    return int(value)


def _legacy_commune(dep_raw: str, com_raw: str) -> str | None:
    """``040`` + ``112`` → ``04112``; ``201`` + ``004`` → ``2A004``; ``972`` + ``009`` → ``97209``."""
    dep, com = dep_raw.strip(), com_raw.strip()
    if not (re.fullmatch(r"\d{3}", dep) and re.fullmatch(r"\d{3}", com)):
        return None
    if dep in ("201", "202"):
        return ("2A" if dep == "201" else "2B") + com
    if dep.startswith("97"):
        return dep + com[-2:]
    if dep[2] != "0":
        return None
    return dep[:2] + com


def _coordinate(raw: str, legacy: bool) -> float | None:
    value = raw.strip()
    if not value:
        return None
    if legacy:
        return int(value) / 100_000 if re.fullmatch(r"-?\d+", value) else None
    try:
        return parse_decimal(value)
    except ValueError:
        return None


def accident_rows(f: BaacFile, report: ImportReport, scope: Scope, communes: set[str]) -> Iterator[tuple]:
    """(line, id, year, date, time, lum, agg, int, atm, col, insee, dep, region, address, lat, lon)."""
    get = _getter(f.columns)
    key = f.key_column
    out_of_scope = without_point = 0
    for line, row in f.table.rows():
        report.rows_read += 1
        acc = _accident_id(get(row, key), line, key, report)
        an = get(row, "an").strip()
        try:
            year = int(an) + (2000 if len(an) <= 2 else 0)
            day = date(year, int(get(row, "mois")), int(get(row, "jour")))
        except ValueError:
            report.error(line, "an/mois/jour", f"{an}/{get(row, 'mois')}/{get(row, 'jour')}", "date invalide")
            acc = None
        if f.legacy:
            insee = _legacy_commune(get(row, "dep"), get(row, "com"))
            if insee is None:
                report.error(
                    line,
                    "dep/com",
                    f"{get(row, 'dep')}/{get(row, 'com')}",
                    "code commune invalide : avant 2019, dep sur 3 caractères (040, 201) et com sur 3 "
                    "chiffres (112) sont attendus ; des zéros de tête ont-ils été perdus ?",
                )
                acc = None
        else:
            insee = get(row, "com").strip().upper()
            if not _COM_RE.match(insee):
                report.error(line, "com", insee, "code commune INSEE invalide (5 caractères, par ex. 04112)")
                acc = None
        if acc is None:
            report.rejected += 1
            continue
        dep = departement_of(insee)
        reg = region_of(dep)
        if not scope.keeps(insee, dep, reg):
            out_of_scope += 1
            continue
        communes.add(insee)
        try:
            moment = parse_time(get(row, "hrmn"))
        except ValueError:
            moment = None
        lat, lon = _coordinate(get(row, "lat"), f.legacy), _coordinate(get(row, "long"), f.legacy)
        if (
            lat is None
            or lon is None
            or not (-90 <= lat <= 90 and -180 <= lon <= 180)
            or (lat == 0 and lon == 0)
        ):
            lat = lon = None
            without_point += 1
        address = get(row, "adr").strip() or None
        yield (
            line,
            acc,
            year,
            day,
            moment,
            _code(get(row, "lum")),
            _code(get(row, "agg")),
            _code(get(row, "int")),
            _code(get(row, "atm")),
            _code(get(row, "col")),
            insee,
            dep,
            reg,
            address,
            lat,
            lon,
        )
    report.extra["hors_territoire"] = out_of_scope
    report.extra["sans_coordonnees"] = without_point


def place_rows(f: BaacFile, report: ImportReport) -> Iterator[tuple]:
    """(line, accident, catr, voie, circ, nbv, vosp, prof, plan, surf, infra, situ, vma)."""
    (key, catr, voie, *coded), width = _positions(
        f,
        (f.key_column, "catr", "voie", "circ", "nbv", "vosp", "prof", "plan", "surf", "infra", "situ", "vma"),
    )
    code = _code
    for line, row in f.table.rows():
        report.rows_read += 1
        row = _padded(row, width)
        acc = _accident_id(row[key], line, f.key_column, report)
        if acc is None:
            report.rejected += 1
            continue
        yield (line, acc, code(row[catr]), row[voie].strip()[:20] or None, *[code(row[i]) for i in coded])


def vehicle_rows(f: BaacFile, report: ImportReport) -> Iterator[tuple]:
    """(line, accident, num_veh, id_vehicule, senc, catv, obs, obsm, choc, manv, motor)."""
    (key, num_veh, ref, *coded), width = _positions(
        f, (f.key_column, "num_veh", "id_vehicule", "senc", "catv", "obs", "obsm", "choc", "manv", "motor")
    )
    code, spaces = _code, _SPACES.sub
    for line, row in f.table.rows():
        report.rows_read += 1
        row = _padded(row, width)
        acc = _accident_id(row[key], line, f.key_column, report)
        letter = row[num_veh].strip()
        if acc is not None and not letter:
            report.error(line, "num_veh", letter, "numéro de véhicule absent (par ex. A01)")
            acc = None
        if acc is None:
            report.rejected += 1
            continue
        yield (line, acc, letter[:5], spaces("", row[ref])[:20] or None, *[code(row[i]) for i in coded])


def user_rows(f: BaacFile, report: ImportReport) -> Iterator[tuple]:
    """(line, accident, rank, num_veh, id_vehicule, id_usager, place, catu, grav, an_nais, trajet)."""
    (key, num_veh, vref, uref, seat, catu, grav, born_at, trip), width = _positions(
        f, (f.key_column, "num_veh", "id_vehicule", "id_usager", "place", "catu", "grav", "an_nais", "trajet")
    )
    code, spaces = _code, _SPACES.sub
    ranks: dict[int, int] = {}
    for line, row in f.table.rows():
        report.rows_read += 1
        row = _padded(row, width)
        acc = _accident_id(row[key], line, f.key_column, report)
        if acc is None:
            report.rejected += 1
            continue
        # Rank in file order is the natural key of users before 2022 (no id_usager then).
        rank = ranks[acc] = ranks.get(acc, 0) + 1
        born = code(row[born_at])
        if born is not None and not 1880 <= born <= 2100:
            born = None
        yield (
            line,
            acc,
            rank,
            row[num_veh].strip()[:5] or None,
            spaces("", row[vref])[:20] or None,
            spaces("", row[uref])[:20] or None,
            code(row[seat]),
            code(row[catu]),
            code(row[grav]),
            born,
            code(row[trip]),
        )
