"""The personal-data guard: the observatoire is not a file of persons (charter of deontology, CNIL).

A header or a value that looks nominative stops the import before anything is staged. Messages name the
column, the line and the rule, never the value itself, so the refusal report holds no personal data.

Every column of the file is guarded, whether the mapping uses it or not: a nominative column refuses the file
even when nothing of it would be stored, as the charter asks (an unmapped column is never stored, but a file
carrying one is not a file the observatoire accepts), and so do cells beyond the header on a wider row. The
columns strictly parsed as dates, times or coordinates are guarded only in their values that do not read as
such (a value that fails to parse is shown in the import report: it must not be a name).

All the rules are in :data:`RULES`, in the order they are tried: a :class:`HeaderRule` for column names, a
:class:`ValueRule` for cell values, each with the French name the user reads in the message. To add a rule,
add an entry there (and a refused and an accepted example to ``tests/test_privacy_guard.py``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ingest import faults, reading, tabular
from observatoire.errors import PersonalDataRefused
from observatoire.text import normalise_header


@dataclass(frozen=True)
class HeaderRule:
    """A column name is refused when its words (lower case, no accents, no punctuation: ``N° SS`` → ``n ss``)
    hold one of ``words``, or one of ``phrases`` as consecutive words — unless they also hold one of ``unless``
    (``Nom de la voie`` is a place, ``Nombre de victimes`` a count)."""

    name: str  # French, shown to the user
    words: frozenset[str] = frozenset()
    phrases: tuple[str, ...] = ()
    unless: frozenset[str] = frozenset()

    def breaks(self, words: Sequence[str]) -> bool:
        present = set(words)
        if present & self.unless:
            return False
        if present & self.words:
            return True
        text = f" {' '.join(words)} "
        return any(f" {p} " in text for p in self.phrases)


@dataclass(frozen=True)
class ValueRule:
    """A value is refused when ``pattern`` (Python) finds a match that ``confirm`` accepts (a checksum, a
    context), or any match when there is no ``confirm``.

    ``prefilter`` is the same test for whole columns in RE2 (pyarrow): it must match at least every value
    ``pattern`` matches, so that a value it does not match is clean; each value it does match is then checked
    by :func:`value_rule`. RE2 has no look-arounds, and Python's Unicode ``\\s`` and ``\\d`` are spelt out
    (:data:`WS`, :data:`DIGIT`). Flags in ``pattern`` are scoped (``(?i:…)``): the patterns are joined into one.
    """

    name: str  # French, shown to the user
    pattern: str
    prefilter: str
    confirm: Callable[[re.Match[str]], bool] | None = None
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern))

    def breaks(self, value: str) -> bool:
        return any(self.confirm is None or self.confirm(m) for m in self.regex.finditer(value))


def _forms(*stems: str) -> frozenset[str]:
    """A word with its plural and feminine forms: ``temoin`` → temoin, temoins, temoine, temoines."""
    return frozenset(f"{s}{end}" for s in stems for end in ("", "s", "e", "es"))


def _ci(word: str) -> str:
    """``at`` → ``[Aa][Tt]``: either case, spelt out so that Python and RE2 take exactly the same letters
    (under a case-insensitive flag Python also takes ``ı``, ``İ``, ``ſ`` or the Kelvin sign for ASCII letters)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


# Python's Unicode \s and \d spelt for RE2 (pyarrow's regular expressions).
WS = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}]"
DIGIT = r"\p{Nd}"
_LETTER_I = r"[A-Za-z\x{130}\x{131}\x{17f}\x{212a}]"  # [A-Z] under re.IGNORECASE also takes İ ı ſ K

# --- Header words ------------------------------------------------------------------------------------------

# A « nom » header naming a place, a service or a category, not a person.
_NOT_A_PERSON = frozenset(
    {
        "voie",
        "rue",
        "commune",
        "lieu",
        "lieudit",
        "quartier",
        "secteur",
        "ville",
        "site",
        "zone",
        "etablissement",
        "afnor",
        "ancienne",
        "ld",
        "service",
        "agent",
        "equipe",
        "patrouille",
        "departement",
        "region",
        "pays",
        "territoire",
        "iris",
        "qpv",
        "index",
        "infraction",
        "categorie",
        "nature",
        "type",
        "fichier",
        "indicateur",
        "residence",
        "batiment",
        "immeuble",
        "ecole",
        "college",
        "lycee",
        "parc",
        "parking",
        "stade",
        "equipement",
        "commerce",
        "magasin",
        "enseigne",
        "societe",
        "entreprise",
        "association",
        "structure",
        "dispositif",
        "camera",
        "unite",
        "brigade",
        "street",
        "road",
        "city",
        "town",
        "district",
        "area",
        "place",
        "sector",
        "category",
        "offence",
        "offense",
        "crime",
        "file",
        "unit",
        "team",
        "officer",
        "agency",
    }
)
# A role header that counts or classifies people instead of naming one.
_COUNT = frozenset(
    {
        "nombre",
        "nb",
        "nbre",
        "total",
        "effectif",
        "effectifs",
        "number",
        "count",
        "type",
        "categorie",
        "category",
    }
)

# A role header naming an authority: « Autorité requérante » (of a video-protection requisition).
_AUTHORITY = frozenset(
    {"autorite", "service", "organisme", "administration", "juridiction", "unite", "authority"}
)

# --- Value patterns ----------------------------------------------------------------------------------------

_PHONE_FR = r"(?<![\d])(?:(?:\+|00)\s?33\s?\(?0?\)?\s?|0)[1-9](?:[\s.\-]?\d{2}){4}(?![\d])"
# +32 470 12 34 56, 0044 20 7946 0958, +44 (0)20 7946 0958: a country code then 9 to 15 digits in all.
_PHONE_INTL = r"(?<![\w+])(?:\+|00)[\s.\-]?[1-9](?:[\s.\-]?(?:\(0\)[\s.\-]?)?\d){8,14}(?!\d)"
_DECIMAL = re.compile(r"[+-]?\d+[.,]\d+")  # +6305000.25 is a number, not a telephone


def _a_phone(m: re.Match[str]) -> bool:
    text = m.group()
    if _DECIMAL.fullmatch(text):
        return False
    # 00 and 13 digits in a row is an identifier: a number dialled from France is at most 00 and 12 digits
    # (0044 7700 900123), and is most often written with spaces.
    return not (text.startswith("00") and text.isdigit() and len(text) > 14)


_AT = (
    rf"(?:@|[\[({{<]\s*(?:{_ci('at')}|@|{_ci('arobase')}|{_ci('arrobase')})\s*[\])}}>]"
    rf"|\s(?:{_ci('at')}|{_ci('arobase')}|{_ci('arrobase')})\s)"
)
_DOT = rf"(?:\.|[\[({{<]\s*(?:{_ci('dot')}|{_ci('point')}|\.)\s*[\])}}>]|\s(?:{_ci('dot')}|{_ci('point')})\s)"
# jean.dupont@gmail.com, jean.dupont[at]gmail.com, jean (at) gmail (dot) com, jean arobase gmail point fr: found
# from the « at » (the name before it only has to end there), not tried from each letter of the text.
_EMAIL = rf"(?<=[\w.+\-])\s*{_AT}\s*[\w\-]+(?:\s*{_DOT}\s*[\w\-]+)+"
_EMAIL_PREFILTER = "|".join(
    (
        "@",
        rf"[\[({{<]{WS}*(?:{_ci('at')}|{_ci('arobase')}|{_ci('arrobase')})",
        rf"{WS}(?:{_ci('at')}|{_ci('arobase')}|{_ci('arrobase')}){WS}",
    )
)

_PLATE_SIV = r"(?i:\b[A-Z]{2}[\s\-]\d{3}[\s\-][A-Z]{2}\b)"
# The letters of the SIV (2009) plates, no I, O or U: AB123CD, AB 123-CD.
_SIV = "[A-HJ-NP-TV-Z]"
_PLATE_SIV_COMPACT = rf"(?<!\w){_SIV}{{2}}[\s\-]?\d{{3}}[\s\-]?{_SIV}{{2}}(?!\w)"
# The FNI (before 2009): 1234 AB 04, 123-ABC-2A; upper case only (``12 bis 13`` is an address).
_PLATE_FNI = r"\b\d{2,4}[\s\-]?[A-Z]{2,3}[\s\-]?(?:0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[1-6])\b"


def _nir_key_ok(m: re.Match[str]) -> bool:
    """The NIR's key: 97 − (its 13 digits mod 97), Corsica's 2A and 2B counted as 19 and 18."""
    digits = re.sub(r"\s", "", m.group()).upper()
    body, key = digits[:13], int(digits[13:])
    department = body[5:7]
    body = body[:5] + {"2A": "19", "2B": "18"}.get(department, department) + body[7:]
    return 97 - int(body) % 97 == key


# Sex (1 or 2), year, month (01-12), department (01-95, 2A, 2B, 97-98 overseas, 99 abroad), commune, order
# (001-999 both), key: the structure and the key together leave about one 15-digit number in 4,000 (a number
# read as a date, 2024031215300…, has no month 40). The rare numbers of persons born in an unknown month
# (months 20-42, 50-99) and the temporary numbers (3, 7, 8) are left out for that reason.
_NIR = (
    r"(?<!\w)[12]\s?[0-9]{2}\s?(?:0[1-9]|1[0-2])\s?(?:0[1-9]|[1-8][0-9]|9[0-5]|2[AaBb]|9[7-9])\s?"
    r"(?!000)[0-9]{3}\s?(?!000)[0-9]{3}\s?[0-9]{2}(?!\w)"
)
_NIR_PREFILTER = (
    rf"[12]{WS}?[0-9]{{2}}{WS}?[01][0-9]{WS}?(?:[0-9]{{2}}|2[AaBb]){WS}?[0-9]{{3}}{WS}?[0-9]{{3}}"
    rf"{WS}?[0-9]{{2}}"
)

# Length of the IBAN of each country of the SWIFT registry.
IBAN_LENGTHS = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BI": 27,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DJ": 27,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FK": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "LY": 25,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MN": 20,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NI": 28,
    "NL": 18,
    "NO": 15,
    "OM": 23,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "RU": 33,
    "SA": 24,
    "SC": 31,
    "SD": 18,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "SO": 23,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
}


def _iban_ok(m: re.Match[str]) -> bool:
    """The IBAN's length for its country and its check digits: the number read with its first four characters
    moved to the end, letters as 10 to 35, is 1 mod 97."""
    compact = re.sub(r"\s", "", m.group(1)).upper()
    length = IBAN_LENGTHS.get(compact[:2])
    if length is None or len(compact) < length:
        return False
    iban = compact[:length]
    return int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1


# Looked for at the start of every word (an empty match, the candidate in a look-ahead): a longer candidate
# starting earlier must not hide it.
_IBAN = r"(?<!\w)(?=([A-Za-z]{2}[0-9]{2}(?:\s?[A-Za-z0-9]){11,30}))"
_IBAN_PREFILTER = rf"[A-Za-z]{{2}}[0-9]{{2}}(?:{WS}?[A-Za-z0-9]){{11,30}}"

_CIVILITIES = (
    "M.",
    "MM.",
    "Mme",
    "MME",
    "mme",
    "Mmes",
    "MMES",
    "Mlle",
    "MLLE",
    "mlle",
    "Mlles",
    "Melle",
    "MELLE",
    "Monsieur",
    "MONSIEUR",
    "monsieur",
    "Madame",
    "MADAME",
    "madame",
    "Mademoiselle",
    "MADEMOISELLE",
    "mademoiselle",
    "Mr",
    "MR",
    "Mr.",
    "MR.",
    "Mrs",
    "MRS",
    "Mrs.",
    "MRS.",
    "Ms",
    "Ms.",
)
_CIVILITY = "(?:" + "|".join(re.escape(c) for c in sorted(_CIVILITIES, key=len, reverse=True)) + ")"
# M. DUPONT, Mme Martin, Monsieur Jean DUPONT, M. et Mme DURAND, Mr Smith: a civility, then a capitalised word.
_PERSON = rf"(?<!\w){_CIVILITY}\s+(?:(?:et|ou|&)\s+{_CIVILITY}\s+)?([^\W\d_][\w'’\-]*)"
# Words after a civility that are not a name: « Madame la Maire », « Monsieur le Préfet », « Mr Bricolage ».
_NOT_A_NAME = frozenset(
    {
        "le",
        "la",
        "les",
        "l",
        "du",
        "de",
        "des",
        "d",
        "un",
        "une",
        "maire",
        "adjoint",
        "adjointe",
        "prefet",
        "préfet",
        "prefete",
        "préfète",
        "procureur",
        "procureure",
        "commissaire",
        "directeur",
        "directrice",
        "president",
        "président",
        "presidente",
        "présidente",
        "principal",
        "principale",
        "proviseur",
        "proviseure",
        "conseiller",
        "conseillère",
        "depute",
        "député",
        "deputee",
        "députée",
        "senateur",
        "sénateur",
        "juge",
        "bricolage",
    }
)
# A civility after one of these words is part of a place's name: « bd M. Bret », « collège Mme de Sévigné ».
_PLACE_BEFORE = frozenset(
    {
        "rue",
        "r",
        "av",
        "ave",
        "avenue",
        "bd",
        "bld",
        "blvd",
        "boulevard",
        "pl",
        "place",
        "ch",
        "che",
        "chemin",
        "all",
        "allee",
        "allée",
        "imp",
        "impasse",
        "quai",
        "sq",
        "square",
        "cours",
        "crs",
        "rte",
        "route",
        "passage",
        "ruelle",
        "traverse",
        "montee",
        "montée",
        "esplanade",
        "parc",
        "res",
        "résidence",
        "residence",
        "lot",
        "lotissement",
        "cite",
        "cité",
        "voie",
        "sentier",
        "promenade",
        "fg",
        "faubourg",
        "college",
        "collège",
        "lycee",
        "lycée",
        "ecole",
        "école",
        "stade",
        "gymnase",
        "salle",
        "centre",
        "hopital",
        "hôpital",
        "parking",
        "jardin",
        "hameau",
        "quartier",
        "clos",
        "domaine",
        "chaussee",
        "chaussée",
        "pont",
        "carrefour",
        "rond",
        "giratoire",
    }
)
_WORD_BEFORE = re.compile(r"(\w+)\W*$")


def _a_person(m: re.Match[str]) -> bool:
    name = m.group(1)
    head = re.split("['’]", name, maxsplit=1)[0] if name[:2].casefold() in ("l'", "l’") else name
    if not name[0].isupper() or head.casefold() in _NOT_A_NAME:
        return False
    before = _WORD_BEFORE.search(m.string, 0, m.start())
    return before is None or before.group(1).casefold() not in _PLACE_BEFORE


_CIVILITY_PREFILTER = _CIVILITY + WS

_BORN = r"(?:[Nn][ÉéEe]|N[ÉE])(?:[Ee]|\([Ee]\))?"
# né le 12/03/1985, née le 1er mars 1985, né(e) en 1985, DDN : 12/03/85, date de naissance 12.03.1985
_BIRTH = (
    rf"(?<!\w)(?:{_BORN}\s+{_ci('le')}|DDN|D\.D\.N\.?|{_ci('date')}\s+{_ci('de')}\s+{_ci('naiss')}"
    rf"(?:{_ci('ance')}|\.)?)\s*:?\s*\d{{1,2}}(?:er)?[\s/.\-]+(?:\d{{1,2}}|[^\W\d_]{{3,}})[\s/.\-]+\d{{2,4}}"
    rf"|(?<!\w){_BORN}\s+{_ci('en')}\s+(?:1[89]|20)\d\d(?!\d)"
)
_BIRTH_PREFILTER = (
    rf"(?:[Nn][ÉéEe]|N[ÉE])(?:[Ee]|\([Ee]\))?{WS}+(?:{_ci('le')}|{_ci('en')})|DDN|D\.D\.N"
    rf"|{_ci('date')}{WS}+{_ci('de')}{WS}+{_ci('naiss')}"
)

FREE_TEXT_LENGTH = 150  # longer values are narratives, not categories or addresses

# --- The rules, in the order they are tried ----------------------------------------------------------------

RULES: tuple[HeaderRule | ValueRule, ...] = (
    HeaderRule(
        "nom de personne",
        words=frozenset(
            {
                "nom",
                "noms",
                "patronyme",
                "patronymes",
                "name",
                "names",
                "surname",
                "surnames",
                "lastname",
                "fullname",
            }
        ),
        phrases=("last name", "family name", "full name", "maiden name"),
        unless=_NOT_A_PERSON,
    ),
    HeaderRule(
        "prénom",
        words=frozenset({"prenom", "prenoms", "firstname", "forename", "forenames", "givenname"}),
        phrases=("first name", "first names", "given name"),
    ),
    HeaderRule(
        "date ou lieu de naissance",
        words=frozenset({"naissance", "naiss", "ddn", "dob", "birth", "birthdate", "birthday", "birthplace"}),
        phrases=("ne le", "nee le", "ne e le", "ne a", "nee a", "ne e a", "d d n", "d o b"),
    ),
    HeaderRule(
        "numéro de téléphone",
        words=frozenset(
            {
                "telephone",
                "telephones",
                "tel",
                "portable",
                "mobile",
                "gsm",
                "fax",
                "phone",
                "phones",
                "cellphone",
            }
        ),
        phrases=("cell number",),
    ),
    HeaderRule(
        "adresse électronique",
        words=frozenset({"courriel", "courriels", "email", "emails", "mail", "mel"}),
        phrases=("e mail", "e mel", "adresse electronique"),
    ),
    HeaderRule(
        "immatriculation ou plaque",
        words=frozenset(
            {"immatriculation", "immatriculations", "immat", "plaque", "plaques", "plate", "plates", "vrm"}
        ),
        phrases=("registration number",),
    ),
    HeaderRule(
        "numéro d'identification (sécurité sociale, pièce d'identité, permis, compte bancaire)",
        words=frozenset(
            {"nir", "nss", "secu", "cni", "passeport", "passeports", "passport", "ssn", "iban", "rib"}
        ),
        phrases=(
            "securite sociale",
            "n ss",
            "no ss",
            "num ss",
            "numero ss",
            "n de ss",
            "numero de ss",
            "carte d identite",
            "carte nationale d identite",
            "piece d identite",
            "titre de sejour",
            "permis de conduire",
            "n permis",
            "numero de permis",
            "numero du permis",
            "social security",
            "national insurance",
            "id card",
            "identity card",
            "driving licence",
            "driving license",
            "driver license",
            "driver s license",
            "drivers license",
            "compte bancaire",
            "numero de compte",
            "carte bancaire",
        ),
    ),
    HeaderRule(
        "personne désignée par son rôle (victime, mis en cause, témoin, plaignant…)",
        words=_forms(
            "victime",
            "requerant",
            "contrevenant",
            "auteur",
            "interpelle",
            "plaignant",
            "temoin",
            "conducteur",
            "proprietaire",
            "suspect",
            "declarant",
            "appelant",
            "identite",
            "mec",
        )
        | frozenset(
            {
                "conductrice",
                "conductrices",
                "victim",
                "victims",
                "witness",
                "witnesses",
                "complainant",
                "complainants",
                "driver",
                "drivers",
                "owner",
                "owners",
                "offender",
                "offenders",
                "perpetrator",
                "caller",
                "person",
                "persons",
            }
        ),
        phrases=(
            "mis en cause",
            "mise en cause",
            "mis en examen",
            "m e c",
            "personne concernee",
            "personne interpellee",
            "personne controlee",
            "personnes concernees",
        ),
        unless=_COUNT | _AUTHORITY,
    ),
    HeaderRule(
        "domicile d'une personne",
        words=frozenset({"domicile", "domiciles", "domiciliation"}),
        phrases=(
            "home address",
            "adresse personnelle",
            "adresse perso",
            "adresse privee",
            "lieu de residence",
            "adresse de residence",
            "residential address",
            "personal address",
            "private address",
            "address of the person",
        ),
    ),
    HeaderRule(
        "texte libre (observations, commentaires, description)",
        words=frozenset(
            {
                "observation",
                "observations",
                "commentaire",
                "commentaires",
                "comment",
                "comments",
                "remarque",
                "remarques",
                "remarks",
                "recit",
                "narration",
                "narratif",
                "narrative",
                "note",
                "notes",
                "details",
                "precisions",
                "description",
                "descriptions",
                "descriptif",
                "memo",
                "annotation",
                "annotations",
                "resume",
                "synthese",
                "deroulement",
            }
        ),
        phrases=(
            "compte rendu",
            "texte libre",
            "free text",
            "informations complementaires",
            "information complementaire",
            "infos complementaires",
            "info complementaire",
            "complement d information",
            "expose des faits",
            "recit des faits",
        ),
    ),
    ValueRule(
        f"texte libre de plus de {FREE_TEXT_LENGTH} caractères",
        rf"(?s:^.{{{FREE_TEXT_LENGTH + 1}}})",
        rf"(?s:^.{{{FREE_TEXT_LENGTH + 1}}})",
    ),
    ValueRule("numéro de sécurité sociale (NIR)", _NIR, _NIR_PREFILTER, _nir_key_ok),
    ValueRule("numéro de compte bancaire (IBAN)", _IBAN, _IBAN_PREFILTER, _iban_ok),
    ValueRule(
        "numéro de téléphone",
        _PHONE_FR,
        rf"(?:(?:\+|00){WS}?33{WS}?\(?0?\)?{WS}?|0)[1-9](?:(?:{WS}|[.\-])?{DIGIT}{DIGIT}){{4}}",
    ),
    ValueRule(
        "numéro de téléphone",
        _PHONE_INTL,
        rf"(?:\+|00)(?:{WS}|[.\-])?[1-9](?:(?:{WS}|[.\-])?(?:\(0\)(?:{WS}|[.\-])?)?{DIGIT}){{8,14}}",
        _a_phone,
    ),
    ValueRule("adresse électronique", _EMAIL, _EMAIL_PREFILTER),
    ValueRule(
        "immatriculation", _PLATE_SIV, rf"{_LETTER_I}{{2}}(?:{WS}|-){DIGIT}{{3}}(?:{WS}|-){_LETTER_I}{{2}}"
    ),
    ValueRule(
        "immatriculation", _PLATE_SIV_COMPACT, rf"{_SIV}{{2}}(?:{WS}|-)?{DIGIT}{{3}}(?:{WS}|-)?{_SIV}{{2}}"
    ),
    ValueRule(
        "immatriculation (ancien format)",
        _PLATE_FNI,
        rf"{DIGIT}{{2}}(?:{WS}|-)?[A-Z]{{2,3}}(?:{WS}|-)?(?:0[1-9]|[1-8]{DIGIT}|9[0-5]|2A|2B|97[1-6])",
    ),
    ValueRule("civilité suivie d'un nom", _PERSON, _CIVILITY_PREFILTER, _a_person),
    ValueRule("date de naissance", _BIRTH, _BIRTH_PREFILTER),
)
HEADER_RULES = tuple(r for r in RULES if isinstance(r, HeaderRule))
VALUE_RULES = tuple(r for r in RULES if isinstance(r, ValueRule))
# One pass over a value that none of the rules matches (the usual case) instead of one per rule.
_ANY = re.compile("|".join(f"(?:{r.pattern})" for r in VALUE_RULES))
# The same over whole columns (RE2).
COLUMN_PREFILTER = "|".join(f"(?:{r.prefilter})" for r in VALUE_RULES)

ADVICE = (
    "L'observatoire ne conserve aucune donnée nominative (charte de déontologie du CLSPDR) : "
    "retirez cette colonne ou ces valeurs de l'export, puis recommencez. Rien n'a été enregistré."
)


def header_rule(name: str) -> str | None:
    """The rule a header breaks, or None."""
    words = normalise_header(name).split()
    if not words:
        return None
    return next((rule.name for rule in HEADER_RULES if rule.breaks(words)), None)


def column_name(header: Sequence[str], i: int) -> str:
    """How a message names column ``i``: « its header », or its number when it has none."""
    if i < len(header) and header[i].strip():
        return f"« {header[i]} »"
    return f"n° {i + 1} (sans en-tête)"


def check_header(header: Sequence[str]) -> None:
    """Refuse a file one of whose columns is nominative, whether or not it is mapped. The message names the
    column cut to what a person can read: a header cell may hold 100 KB."""
    for position, name in enumerate(header, start=1):
        rule = header_rule(name)
        if rule:
            raise PersonalDataRefused(
                f"Import refusé : la colonne « {tabular.shown_name(name)} » (n° {position}) ressemble à une "
                f"donnée personnelle (règle : {rule}). {ADVICE}"
            )


def value_rule(value: str) -> str | None:
    """The rule a value breaks, or None."""
    if not _ANY.search(value):
        return None
    return next((rule.name for rule in VALUE_RULES if rule.breaks(value)), None)


def _refuse(header: Sequence[str], i: int, line: int, rule: str) -> PersonalDataRefused:
    """The message of the table of faults, shared with the other checks of both readers."""
    column = header[i] if i < len(header) and header[i].strip() else f"n° {i + 1} (sans en-tête)"
    return PersonalDataRefused(
        faults.message("personal_value", column=column, line=line, rule=rule, advice=ADVICE)
    )


# A coordinate as the readers take one: longitude/latitude in degrees or Lambert-93 metres.
_COORDINATE_RANGES = ((-180.0, 180.0), (100_000.0, 7_200_000.0))


def reads_as(kind: str, value: str) -> bool:
    """Whether ``value`` reads as what a strictly parsed column holds (``date``: a date, perhaps followed by a
    time; ``time``; ``number``: a coordinate): such a value is what it says, not a name or a phone number,
    even when a rule would match it (``43.0612345678``, ``0.0416666667`` of an Excel time)."""
    value = value.strip()
    try:
        if kind == "date":
            day, _, moment = value.replace("T", " ", 1).partition(" ")
            return reading.parse_date(day) is not None and (
                not moment.strip() or reading.parse_time(moment) is not None
            )
        if kind == "time":
            return reading.parse_time(value) is not None
        if kind == "number":
            number = reading.parse_decimal(value)
            return number is not None and any(low <= number <= high for low, high in _COORDINATE_RANGES)
    except ValueError:
        return False
    return False


def _strict_rule(value: str, kind: str | None) -> str | None:
    rule = value_rule(value)
    return None if rule and kind and reads_as(kind, value) else rule


STRICT_KINDS = ("date", "time", "number")


_Row = TypeVar("_Row", bound=Sequence[str])


class ContentGuard:
    """Checks rows as they stream by and raises on the first offending row and column, as
    :func:`first_violation` does over whole columns.

    Rows are gathered and checked ``batch`` at a time, at C speed as the column guard checks them
    (:data:`COLUMN_PREFILTER`, then :func:`value_rule` once per distinct candidate), and at :meth:`finish`,
    which the reader calls after the last row — and before passing on an error of its own, so that personal
    data earlier in the file is what the user is told about. A refused file is thus refused a little further
    in the reading, with the same message; nothing is written before the whole file has been read.

    ``strict`` maps the columns strictly parsed (dates, times, coordinates) to their kind: their values are
    guarded only when they do not read as such (see :func:`reads_as`)."""

    def __init__(self, header: Sequence[str], strict: Mapping[int, str] | None = None, batch: int = 100_000):
        self.header = list(header)
        self.strict = dict(strict or {})
        self.batch = batch
        self._rows: list[Sequence[str]] = []
        self._lines: list[int] = []

    def check(self, line: int, row: Sequence[str]) -> None:
        self._rows.append(row)
        self._lines.append(line)
        if len(self._rows) >= self.batch:
            self.finish()

    def rows(self, rows: Iterable[tuple[int, _Row]]) -> Iterator[tuple[int, _Row]]:
        """``rows`` (line, cells) checked as they pass, then :meth:`finish`: also when the reading fails, so that
        personal data before an unreadable line is what the user is told about."""
        try:
            for line, row in rows:
                self.check(line, row)
                yield line, row
        except Exception:
            self.finish()
            raise
        self.finish()

    def finish(self) -> None:
        """Check the rows gathered since the last call; raise on the first offending row and column."""
        rows, lines = self._rows, self._lines
        self._rows, self._lines = [], []
        if not rows:
            return
        width = max(map(len, rows))
        if any(len(row) != width for row in rows):  # short rows padded; cells beyond the header guarded too
            rows = [row if len(row) == width else [*row, *[""] * (width - len(row))] for row in rows]
        # All the cells in one array, row after row: the first one breaking a rule is the first row's first column.
        cells = list(itertools.chain.from_iterable(rows))
        checked: dict[tuple[str | None, str], str | None] = {}
        for k in _candidates(cells):
            i = k % width
            kind, value = self.strict.get(i), cells[k]
            key = (kind, value)
            if key not in checked:
                checked[key] = _strict_rule(value, kind)
            if checked[key]:
                raise _refuse(self.header, i, lines[k // width], checked[key])  # type: ignore[arg-type]


def _candidates(values: list[str]) -> Iterator[int]:
    """The positions of the values :data:`COLUMN_PREFILTER` matches (those a rule may match), found at C speed."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(values, pa.string())
    except (UnicodeEncodeError, pa.ArrowException):  # a lone surrogate: each value by Python alone
        yield from (k for k, v in enumerate(values) if _ANY.search(v))
        return
    suspect = pc.match_substring_regex(array, COLUMN_PREFILTER).to_numpy(zero_copy_only=False)
    yield from (int(k) for k in np.flatnonzero(suspect))


def first_violation(
    header: Sequence[str],
    columns: Sequence[Any],
    lines: Any,
    strict: Mapping[int, str] | None = None,
    ignore: Any = None,
) -> None:
    """The guard over whole columns (pyarrow string arrays, one per header column): raises as
    :class:`ContentGuard` would on the first offending row, naming the same column, line and rule.

    ``lines`` gives each row's line number (numpy array); ``ignore`` (numpy bool array, optional) marks rows
    the row reader skips (blank rows). A dictionary-encoded column is checked once per distinct value.
    Candidates are found at C speed by :data:`COLUMN_PREFILTER`, then checked by :func:`value_rule`.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    strict = dict(strict or {})
    hits: list[tuple[int, int, str]] = []  # (row, column, rule)
    for i, column in enumerate(columns):
        values = column.dictionary if isinstance(column, pa.DictionaryArray) else column  # each distinct once
        suspect = pc.match_substring_regex(values, COLUMN_PREFILTER)
        if not pc.any(suspect).as_py():
            continue
        if values is not column:
            suspect = suspect.take(column.indices)
            column = values.take(column.indices)
        rows = np.flatnonzero(suspect.to_numpy(zero_copy_only=False))
        checked: dict[str, str | None] = {}
        for k in rows:
            if ignore is not None and ignore[k]:
                continue
            value = column[int(k)].as_py()
            if value not in checked:
                checked[value] = _strict_rule(value, strict.get(i)) if value else None
            found = checked[value]
            if found:
                hits.append((int(k), i, found))
                break
    if hits:
        row, i, rule = min(hits)
        raise _refuse(header, i, int(lines[row]), rule)
