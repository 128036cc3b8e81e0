"""The personal-data guard knows French police files: abbreviations (DDN, MEC, N° SS…), roles of persons,
free-text columns, English headers; civilities, birth dates, NIR and IBAN (with their checksums), plates with
or without separators, foreign telephone numbers and disguised e-mail addresses. Every example is refused
through both readers (row by row, column by column), and the ordinary columns and values of police exports
still pass."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import sqlalchemy as sa

from ingest import columnar, tabular
from ingest import pn_faits as pn
from ingest import police_municipale as pm
from ingest.privacy import (
    COLUMN_PREFILTER,
    RULES,
    ContentGuard,
    HeaderRule,
    ValueRule,
    first_violation,
    header_rule,
    value_rule,
)
from observatoire.errors import PersonalDataRefused
from tests.pm_helpers import HEADER, ROWS

# --- Nominative headers: each one is refused -------------------------------------------------------------

NOMINATIVE_HEADERS = [
    # abbreviations of police files
    "DDN",
    "D.D.N.",
    "Date de naiss.",
    "MEC",
    "M.E.C.",
    "NIR",
    "N° NIR",
    "N° SS",
    "N° Sécu",
    "Numéro de sécurité sociale",
    "N° CNI",
    "Carte d'identité",
    "Passeport",
    "N° de passeport",
    "Permis de conduire",
    "Né(e) le",
    "Date de naissance",
    "Lieu de naissance",
    # names
    "Nom",
    "NOM",
    "Nom du mis en cause",
    "Nom de famille",
    "Prénom",
    "Prénoms",
    "Nom Prénom",
    "Patronyme",
    # roles of persons
    "Plaignant",
    "Témoin",
    "Mis en cause",
    "Conducteur",
    "Propriétaire",
    "Propriétaire du véhicule",
    "Victime",
    "Identité victime",
    "Requérant",
    "Auteur",
    "Personne interpellée",
    "Contrevenant",
    "Domicile",
    "Adresse du domicile",
    # contact, vehicle, bank
    "Téléphone",
    "Tél.",
    "Portable",
    "Tél. requérant",
    "Courriel",
    "E-mail",
    "Mail",
    "Immatriculation",
    "Immat.",
    "Plaque",
    "N° d'immatriculation",
    "IBAN",
    # free text
    "Description",
    "Descriptif",
    "Commentaire",
    "Commentaires",
    "Observations",
    "Remarques",
    "Compte rendu",
    "Récit",
    "Informations complémentaires",
    "Détails",
    # English
    "Name",
    "First name",
    "Surname",
    "Last name",
    "Birth date",
    "Birthdate",
    "Date of birth",
    "DOB",
    "Phone",
    "E-mail address",
    "Plate",
    "License plate",
    "Comments",
    "Notes",
    "Home address",
    "Victim",
    "Witness",
]

# --- Nominative values: each one is refused, wherever it stands ------------------------------------------

NOMINATIVE_VALUES = [
    # civility followed by a name, birth dates
    "M. DUPONT Jean",
    "Monsieur Jean DUPONT né le 12/03/1985",
    "Mme MARTIN",
    "Madame Durand",
    "Mlle Petit",
    "Mr Smith",
    "Mrs Brown",
    "M. et Mme DURAND",
    "née le 1er mars 1985",
    "DDN : 12/03/1985",
    # NIR (valid key), Corsica too
    "185037512345641",
    "NIR 1 85 03 75 123 456 41",
    "1 85 03 2A 123 456 01",
    # IBAN
    "FR76 3000 6000 0112 3456 7890 189",
    "FR7630006000011234567890189",
    "virement BE68 5390 0754 7034",
    # plates, with or without separators, old format
    "AB123CD",
    "véhicule AB-123-CD",
    "AB 123 CD",
    "1234 AB 04",
    "123 ABC 2A",
    # e-mail addresses, plain or disguised
    "jean.dupont@example.fr",
    "jean.dupont[at]gmail.com",
    "jean.dupont(at)gmail.com",
    "jean.dupont at gmail dot com",
    "jean.dupont arobase gmail point com",
    "jean.dupont@gmail[dot]com",
    # telephone numbers, French and foreign
    "06 12 34 56 78",
    "+33 6 12 34 56 78",
    "+32 470 12 34 56",
    "+44 20 7946 0958",
    "0032 470 12 34 56",
    "0044 7700 900123",
    "+1 202 555 0143",
    "+44 (0)20 7946 0958",
    # a narrative
    "Le requérant signale que son voisin fait du bruit tous les soirs depuis trois semaines, il a déjà tenté de "
    "lui parler sans succès et souhaite une médiation rapide.",
]

# --- What police exports hold, which must pass -----------------------------------------------------------

ORDINARY_HEADERS = sorted(
    {
        # every spelling the readers recognise
        *(variant for fields in (pm.FIELDS, pn.FIELDS) for f in fields for variant in f.variants),
        *(f.label for fields in (pm.FIELDS, pn.FIELDS) for f in fields),
        # as they come in exports (sample files, test files, the model)
        *HEADER,
        "Date/heure",
        "Motif",
        "Lieu",
        "Quartier",
        "Saisine",
        "Suite",
        "N° MC",
        "Date des faits",
        "Index 4001",
        "Libellé index",
        "N° procédure",
        "numero de procedure",
        "Index",
        "Service",
        "Service demandeur",
        "Autorité requérante",
        "Nombre de victimes",
        "Nb mis en cause",
        "Type de victime",
        "Nombre",
        "Nom de la voie",
        "nom_voie",
        "Nom commune",
        "Nom département",
        "Nom de l'établissement",
        "Code INSEE",
        "Identifiant",
        "Catégorie",
        "Qualification",
        "Commune",
        "Agent",
        "Équipe",
        "Patrouille",
        "Véhicule de service",
        # headers of the real public files (SSMSI, BAAC, INSEE, BAN, police municipale staff)
        "classe",
        "annee",
        "Code.département",
        "unité.de.compte",
        "millPOP",
        "faits",
        "tauxpourmille",
        "CODGEO_2024",
        "Num_Acc",
        "an",
        "mois",
        "jour",
        "hrmn",
        "lum",
        "agg",
        "int",
        "atm",
        "col",
        "com",
        "adr",
        "gps",
        "lat",
        "long",
        "dep",
        "catr",
        "voie",
        "circ",
        "obs",
        "obsm",
        "choc",
        "manv",
        "num_veh",
        "id_vehicule",
        "id_usager",
        "place",
        "catu",
        "grav",
        "sexe",
        "an_nais",
        "trajet",
        "secu1",
        "locp",
        "actp",
        "etatp",
        "Accident_Id",
        "TYPECOM",
        "LIBELLE",
        "NCC",
        "NCCENR",
        "libgeo",
        "p21_pop",
        "nom_afnor",
        "nom_ld",
        "nom_ancienne_commune",
        "source_nom_voie",
        "code_postal",
        "Adresses",
        "commune",
        "nb_habitants",
        "policiers_municipaux",
        "asvp",
        "maitres_chiens",
        "Nombre d’agents de police municipale",
        "Nombre d’habitants de la commune",
        "pilote",
        "indicateurs",
        "rubrique",
        "cumul_2024",
        # English
        "Address",
        "Street name",
        "Date",
        "Time",
        "Nature",
        "Category",
        "Area",
        "Reference",
    }
)

ORDINARY_VALUES = [
    "12 rue Jean Jaurès",
    "12 av. Jean Giono",
    "Place du Général de Gaulle",
    "34 Boulevard Martin Bret",
    "Bd M. Bret",
    "Rue Madame de Sévigné",
    "15, CAIRE (PL. DR.)",
    "RD 4096 / RD 30",
    "Stade Jacques Bianchi",
    "04100 Manosque",
    "9, Place Hôtel de Ville, 04100 Manosque",
    "Tapage nocturne",
    "Rodéo urbain",
    "Stationnement gênant",
    "Assistance à personne",
    "27 - Cambriolages de locaux d'habitations principales",
    "Index 27",
    "Appel 17",
    "Tél. requérant",
    "Demande mairie",
    "Madame la Maire",
    "Monsieur le Maire",
    "Demande de Mme la Maire",
    "M. le Préfet",
    "Parking Mr Bricolage",
    "Rappel à la loi",
    "Remis à la PN",
    "MC-2024-0001",
    "MC000001",
    "PM-0000001",
    "DEMO-2021-00001",
    "B00000001",
    "2024-001532",
    "F2023000001",
    "PV n° 20240312",
    "2024/012345",
    "201300000001",
    "150\u00a0000\u00a0001",
    "12/03/2024",
    "2024-03-12 22:15",
    "22h15",
    "43.8342",
    "5,7871",
    "931512,40",
    "6305409,48",
    "+6305000.25",
    "Nord",
    "Centre",
    "185037512345678",  # the review's example: its key should be 41, so this is no NIR
    "FR76 3000 6000 0112 3456 7890 188",  # wrong check digits
    "123456789012345",
    "Vols à la roulotte",
    "de 5,2 à 7,4",
    "+ 17.78 % (+32 fait(s))",
]


def test_every_rule_has_a_french_name():
    names = [rule.name for rule in RULES]
    assert all(name and name[0].islower() for name in names)
    assert {type(rule) for rule in RULES} == {HeaderRule, ValueRule}


def test_the_lists_hold_the_review_s_kinds():
    assert len(NOMINATIVE_HEADERS) == len(set(NOMINATIVE_HEADERS)) == 79
    assert len(NOMINATIVE_VALUES) == len(set(NOMINATIVE_VALUES)) == 36


@pytest.mark.parametrize("header", NOMINATIVE_HEADERS)
def test_nominative_headers_are_refused(header):
    assert header_rule(header)


@pytest.mark.parametrize("header", ORDINARY_HEADERS)
def test_ordinary_headers_pass(header):
    assert header_rule(header) is None


@pytest.mark.parametrize("value", NOMINATIVE_VALUES)
def test_nominative_values_are_refused(value):
    assert value_rule(value)


@pytest.mark.parametrize("value", ORDINARY_VALUES)
def test_ordinary_values_pass(value):
    assert value_rule(value) is None


@pytest.mark.parametrize(
    "value,rule",
    [
        ("M. DUPONT Jean", "civilité"),
        ("née le 1er mars 1985", "naissance"),
        ("185037512345641", "NIR"),
        ("FR7630006000011234567890189", "IBAN"),
        ("AB123CD", "immatriculation"),
        ("+44 20 7946 0958", "téléphone"),
        ("jean.dupont[at]gmail.com", "électronique"),
        ("1234 AB 04", "immatriculation"),
    ],
)
def test_the_rule_is_named(value, rule):
    assert rule in value_rule(value)


@pytest.mark.parametrize(
    "header,rule",
    [
        ("DDN", "naissance"),
        ("MEC", "rôle"),
        ("N° SS", "sécurité sociale"),
        ("Passeport", "identité"),
        ("Témoin", "rôle"),
        ("Domicile", "domicile"),
        ("Description", "texte libre"),
        ("Name", "nom"),
        ("Plate", "immatriculation"),
        ("Birthdate", "naissance"),
    ],
)
def test_the_header_rule_is_named(header, rule):
    assert rule in header_rule(header)


def test_checksums_tell_a_nir_or_an_iban_from_an_ordinary_number():
    rng = random.Random(3)
    numbers = ["".join(rng.choice("0123456789") for _ in range(15)) for _ in range(20_000)]
    assert sum(1 for n in numbers if value_rule(n)) < 15  # a NIR's structure and key: about 1 in 4,000
    stamps = [
        f"2024{m:02d}{d:02d}{h:02d}{k:05d}"
        for m in range(1, 13)
        for d in range(1, 29)
        for h in range(24)
        for k in (1, 317)
    ]
    assert not any(value_rule(n) for n in stamps)  # identifiers made of a date and a time and a counter
    for body in ("1850375123456", "2990418123045", "1850320123456"):
        key = 97 - int(body) % 97
        assert value_rule(f"{body}{key:02d}")
        assert value_rule(f"{body}{(key % 97) + 1:02d}") is None
    assert value_rule("1 85 03 2B 123 456 10") is None and value_rule("2 99 04 2B 123 045 10")
    assert value_rule("GB82 WEST 1234 5698 7654 32") and value_rule("GB83 WEST 1234 5698 7654 32") is None
    assert "IBAN" in value_rule("DE89 3704 0044 0532 0130 00 PV")
    assert value_rule("XX76 3000 6000 0112 3456 7890 189") is None  # no such country


# --- Through both readers ---------------------------------------------------------------------------------

BIG = 30_000
DEEP = 25_000  # index of the offending row in the big file


def _rows(n: int) -> list[list[str]]:
    return [[*ROWS[k % len(ROWS)][:-1], f"MC-{k:06d}"] for k in range(n)]


def _write(path: Path, header: list[str], rows: list[list[str]], short_last: bool = False) -> Path:
    lines = [";".join(header)] + [";".join(r) for r in rows]
    if short_last:  # a row narrower than the header: the file is not regular, the row reader reads it
        lines[-1] = ";".join(rows[-1][:5])
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _both_files(
    tmp_path: Path, column: str, value: str, header: list[str] | None = None, extra: list[str] | None = None
) -> list[tuple[Path, int, bool]]:
    """(file, line of the value, read as columns): a small irregular file and a large regular one, ``value`` in
    ``column`` of one row."""
    header = list(header or HEADER)
    made = []
    for name, n, at, regular in (("petit.csv", 6, 3, False), ("grand.csv", BIG, DEEP, True)):
        rows = _rows(n)
        if extra is not None:
            rows = [[*r, *extra] for r in rows]
        rows[at][header.index(column)] = value
        path = _write(tmp_path / name, header, rows, short_last=not regular)
        line = at + 2
        assert (columnar.read_regular(tabular.open_export(path, pm.FIELDS)) is not None) == regular
        made.append((path, line, regular))
    return made


def _refused(engine, path: Path) -> str:
    with pytest.raises(PersonalDataRefused) as exc:
        pm.commit(engine, path, commune="04112")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.pm_intervention")).scalar() == 0
    return exc.value.message


@pytest.mark.parametrize("value", NOMINATIVE_VALUES)
def test_each_nominative_value_is_refused_by_both_readers(engine, tmp_path, value):
    for path, line, _ in _both_files(tmp_path, "Nature de l'intervention", value):
        message = _refused(engine, path)
        assert "« Nature de l'intervention »" in message and f"ligne {line}," in message
        assert value not in message


@pytest.mark.parametrize(
    "header",
    [
        "DDN",
        "Date de naiss.",
        "MEC",
        "N° SS",
        "N° CNI",
        "Passeport",
        "Plaignant",
        "Témoin",
        "Conducteur",
        "Propriétaire",
        "Domicile",
        "Description",
        "Name",
        "Birthdate",
        "Plate",
        "Comments",
    ],
)
def test_each_header_of_the_review_is_refused_by_both_readers_even_unmapped(engine, tmp_path, header):
    for path, _, _ in _both_files(tmp_path, "Secteur", "Centre", header=[*HEADER, header], extra=[""]):
        message = _refused(engine, path)
        assert f"« {header} » (n° 11)" in message


@pytest.mark.parametrize(
    "value",
    [
        "M. DUPONT Jean",
        "FR7630006000011234567890189",
        "AB123CD",
        "jean.dupont[at]gmail.com",
        "+32 470 12 34 56",
    ],
)
def test_an_unmapped_column_is_guarded_by_both_readers(engine, tmp_path, value):
    header = [*HEADER, "Divers"]
    assert 10 not in tabular.resolve(header, pm.FIELDS, None).values()  # the mapping does not use it
    for path, line, _ in _both_files(tmp_path, "Divers", value, header=header, extra=[""]):
        message = _refused(engine, path)
        assert "« Divers »" in message and f"ligne {line}," in message and value not in message


def test_cells_beyond_the_header_are_guarded(engine, tmp_path):
    rows = _rows(5)
    rows[2] = [*rows[2], "", "M. DUPONT Jean"]
    path = _write(tmp_path / "large.csv", HEADER, rows)
    message = _refused(engine, path)
    assert "n° 12 (sans en-tête)" in message and "ligne 4," in message


@pytest.mark.parametrize(
    "column,value",
    [("Date", "M. DUPONT Jean"), ("Heure", "06 12 34 56 78"), ("X", "0612345678"), ("Y", "+32 470 12 34 56")],
)
def test_a_date_time_or_coordinate_column_holding_personal_data_is_refused(engine, tmp_path, column, value):
    """Such a value fails to parse: it would be written in the import report."""
    for path, line, _ in _both_files(tmp_path, column, value):
        message = _refused(engine, path)
        assert f"« {column} »" in message and f"ligne {line}," in message


def test_a_coordinate_or_a_time_that_looks_like_a_number_of_a_person_is_what_it_says(
    engine, tmp_path, monkeypatch
):
    """Longitude 6.0612345678 (in the département) holds the digits of a mobile telephone number, an Excel time
    0.0416666667 those of a landline: read as what their column holds, they pass; the same text in a text
    column would not."""
    assert value_rule("6.0612345678") and value_rule("0.0416666667")
    rows = _rows(BIG)
    rows[DEEP][4:6] = ["6.0612345678", "43.8342"]
    rows[DEEP + 1][1] = "0.0416666667"
    path = _write(tmp_path / "grand.csv", HEADER, rows)
    for by_rows in (False, True):
        with monkeypatch.context() as m:
            if by_rows:
                m.setattr(columnar, "read_regular", lambda table: None)
            report = pm.commit(engine, path, commune="04112", dry_run=True)
        assert report.rows_read == BIG and report.errors_total == 0
    preview_file = _write(tmp_path / "apercu.csv", HEADER, rows[DEEP : DEEP + 3])
    assert pm.preview(preview_file).rows[0][4] == "6.0612345678"


def test_ordinary_values_are_imported_by_both_readers(engine, tmp_path, monkeypatch):
    """Each ordinary value in each text column, mapped or not, of a large file: nothing is refused."""
    header = [*HEADER, "Divers"]
    rows = [[*r, ""] for r in _rows(BIG)]
    text_columns = ["Nature de l'intervention", "Adresse", "Suite donnée", "Divers"]
    for k, value in enumerate(ORDINARY_VALUES):
        for j, column in enumerate(text_columns):
            rows[1000 + 4 * k + j][header.index(column)] = value
    path = _write(tmp_path / "grand.csv", header, rows)
    for by_rows in (False, True):
        with monkeypatch.context() as m:
            if by_rows:
                m.setattr(columnar, "read_regular", lambda table: None)
            report = pm.commit(engine, path, commune="04112", dry_run=True)
        assert report.rows_read == BIG and report.errors_total == 0


def test_the_column_guard_refuses_what_the_row_guard_refuses_on_random_values():
    """The column guard's RE2 prefilter must match every value the Python rules refuse."""
    rng = random.Random(7)
    pieces = [
        "M. ",
        "Mme ",
        "Monsieur ",
        "né le ",
        "née en ",
        "DDN ",
        "Dupont",
        "DUPONT",
        "de ",
        "la ",
        "Maire",
        "bd ",
        "[at]",
        "(at)",
        " at ",
        " arobase ",
        " point ",
        "[dot]",
        ".",
        "@",
        "gmail",
        "com",
        "fr",
        "+",
        "00",
        "32",
        "44",
        "33",
        "(0)",
        "FR76",
        "2A",
        "2B",
        "AB",
        "CD",
        "123",
        "1",
        "85",
        "03",
        "75",
        "456",
        "41",
        "0",
        "12",
        "/",
        "-",
        " ",
        "\u00a0",
        "İ",
        "ſ",
        "K",
        "é",
        "É",
        "٣",
    ]
    values = ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 9))) for _ in range(20_000)]
    values += NOMINATIVE_VALUES + ORDINARY_VALUES
    refused = [value for value in values if value_rule(value)]
    assert len(refused) > 500
    candidates = pc.match_substring_regex(pa.array(values), COLUMN_PREFILTER).to_pylist()
    assert all(found for value, found in zip(values, candidates, strict=True) if value_rule(value))
    for value in refused[:200] + values[-len(NOMINATIVE_VALUES + ORDINARY_VALUES) :]:
        column = pa.array(["ok", value])
        if value_rule(value):
            with pytest.raises(PersonalDataRefused):
                first_violation(["Divers"], [column], [2, 3])
        else:
            first_violation(["Divers"], [column], [2, 3])


# --- The row guard checks rows in batches at C speed ------------------------------------------------------


def test_the_row_guard_names_the_first_row_and_column_whatever_its_batches():
    header = ["A", "B", "C"]
    rows = [(k + 2, ["ok", "Tapage", f"MC-{k}"]) for k in range(20)]
    rows[3] = (5, ["ok"])  # a short row
    rows[9] = (11, ["ok", "Tapage", "x", "", "+32 470 12 34 56"])  # a wider one
    rows[12] = (14, ["ok", "M. DUPONT", "AB123CD"])  # two in one row: the first column is named
    rows[15] = (17, ["AB-123-CD", "ok", "ok"])
    for batch in (1, 3, 7, 10, 100):
        guard = ContentGuard(header, batch=batch)
        with pytest.raises(PersonalDataRefused) as exc:
            for _ in guard.rows(iter(rows)):
                pass
        assert "n° 5 (sans en-tête)" in exc.value.message and "ligne 11," in exc.value.message, batch
        rows_after = [(line, row) for line, row in rows if line != 11]
        guard = ContentGuard(header, batch=batch)
        with pytest.raises(PersonalDataRefused) as exc:
            for _ in guard.rows(iter(rows_after)):
                pass
        assert "« B »" in exc.value.message and "ligne 14," in exc.value.message, batch
        assert "civilité" in exc.value.message


def test_personal_data_before_an_unreadable_line_is_what_the_user_is_told(engine, tmp_path):
    # A fault found while reading, further down (a control character; an undecodable byte is refused before
    # any row is read, the encoding being decided on the whole file).
    rows = _rows(2_000)
    rows[1][2] = "M. DUPONT Jean"
    path = tmp_path / "illisible.csv"
    path.write_bytes(
        "\r\n".join(";".join(r) for r in [HEADER, *rows]).encode("utf-8") + b"\r\n12/03/2024;\x07;x\r\n"
    )
    message = _refused(engine, path)
    assert "« Nature de l'intervention »" in message and "ligne 3," in message
