"""Official codes of régions and départements (COG 2024) and the territory code forms.

Kept in code because every source needs them before any contour is loaded: a département met in an
SSMSI file must get its name and its région without a geometry import.

:class:`TerritoryCode` is the one reading of a territory code, whether written in full (``COM:04112``,
``DEP:2A``, ``REG:93``, ``FRA``, ``IRIS:041120101``, ``QPV:QN00402M``, ``GRP:<nom>``) or typed as a bare
INSEE code (``04112``, ``4``, ``2A``, ``971``, ``97411``). The département of a commune is
:func:`departement_of_commune`: its first two characters, or three overseas (``97x``, and ``98x`` for the
collectivités that road accident files hold).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from observatoire.errors import NotFound

REGIONS: dict[str, str] = {
    "01": "Guadeloupe",
    "02": "Martinique",
    "03": "Guyane",
    "04": "La Réunion",
    "06": "Mayotte",
    "11": "Île-de-France",
    "24": "Centre-Val de Loire",
    "27": "Bourgogne-Franche-Comté",
    "28": "Normandie",
    "32": "Hauts-de-France",
    "44": "Grand Est",
    "52": "Pays de la Loire",
    "53": "Bretagne",
    "75": "Nouvelle-Aquitaine",
    "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur",
    "94": "Corse",
}

_DEP = """
01 Ain 84|02 Aisne 32|03 Allier 84|04 Alpes-de-Haute-Provence 93|05 Hautes-Alpes 93|06 Alpes-Maritimes 93|
07 Ardèche 84|08 Ardennes 44|09 Ariège 76|10 Aube 44|11 Aude 76|12 Aveyron 76|13 Bouches-du-Rhône 93|
14 Calvados 28|15 Cantal 84|16 Charente 75|17 Charente-Maritime 75|18 Cher 24|19 Corrèze 75|
21 Côte-d'Or 27|22 Côtes-d'Armor 53|23 Creuse 75|24 Dordogne 75|25 Doubs 27|26 Drôme 84|27 Eure 28|
28 Eure-et-Loir 24|29 Finistère 53|2A Corse-du-Sud 94|2B Haute-Corse 94|30 Gard 76|31 Haute-Garonne 76|
32 Gers 76|33 Gironde 75|34 Hérault 76|35 Ille-et-Vilaine 53|36 Indre 24|37 Indre-et-Loire 24|38 Isère 84|
39 Jura 27|40 Landes 75|41 Loir-et-Cher 24|42 Loire 84|43 Haute-Loire 84|44 Loire-Atlantique 52|
45 Loiret 24|46 Lot 76|47 Lot-et-Garonne 75|48 Lozère 76|49 Maine-et-Loire 52|50 Manche 28|51 Marne 44|
52 Haute-Marne 44|53 Mayenne 52|54 Meurthe-et-Moselle 44|55 Meuse 44|56 Morbihan 53|57 Moselle 44|
58 Nièvre 27|59 Nord 32|60 Oise 32|61 Orne 28|62 Pas-de-Calais 32|63 Puy-de-Dôme 84|
64 Pyrénées-Atlantiques 75|65 Hautes-Pyrénées 76|66 Pyrénées-Orientales 76|67 Bas-Rhin 44|68 Haut-Rhin 44|
69 Rhône 84|70 Haute-Saône 27|71 Saône-et-Loire 27|72 Sarthe 52|73 Savoie 84|74 Haute-Savoie 84|75 Paris 11|
76 Seine-Maritime 28|77 Seine-et-Marne 11|78 Yvelines 11|79 Deux-Sèvres 75|80 Somme 32|81 Tarn 76|
82 Tarn-et-Garonne 76|83 Var 93|84 Vaucluse 93|85 Vendée 52|86 Vienne 75|87 Haute-Vienne 75|88 Vosges 44|
89 Yonne 27|90 Territoire de Belfort 27|91 Essonne 11|92 Hauts-de-Seine 11|93 Seine-Saint-Denis 11|
94 Val-de-Marne 11|95 Val-d'Oise 11|971 Guadeloupe 01|972 Martinique 02|973 Guyane 03|974 La Réunion 04|
976 Mayotte 06
"""

DEPARTEMENTS: dict[str, tuple[str, str]] = {}
for _item in _DEP.replace("\n", "").split("|"):
    _code, _rest = _item.strip().split(" ", 1)
    _name, _reg = _rest.rsplit(" ", 1)
    DEPARTEMENTS[_code] = (_name, _reg)

OVERSEAS_DEPARTEMENTS = frozenset({"971", "972", "973", "974", "976"})
FRANCE = "FRA"

# Written so that Python's ``re`` and PostgreSQL's ``~`` read them alike.
COMMUNE_PATTERN = "^([0-9]{5}|2[AB][0-9]{3})$"
COMMUNE_RE = re.compile(COMMUNE_PATTERN)
_DEPARTEMENT_RE = re.compile("^([0-9]{1,2}|9[78][0-9]|2[AB])$")
_REGION_RE = re.compile("^[0-9]{1,2}$")
_IRIS_RE = re.compile("^([0-9]{5}|2[AB][0-9]{3})[0-9]{4}$")
_QPV_RE = re.compile("^[A-Z0-9]+$")
_OVERSEAS_PREFIXES = ("97", "98")


def departement_of_commune(insee: str) -> str:
    """``04112`` → ``04``, ``2A004`` → ``2A``, ``97411`` → ``974`` (``98735`` → ``987``)."""
    return insee[:3] if insee[:2] in _OVERSEAS_PREFIXES else insee[:2]


def departement_of_commune_sql(expr: str) -> str:
    """:func:`departement_of_commune` as a PostgreSQL expression of the text expression ``expr``."""
    prefixes = ", ".join(f"'{p}'" for p in _OVERSEAS_PREFIXES)
    return f"(CASE WHEN left({expr}, 2) IN ({prefixes}) THEN left({expr}, 3) ELSE left({expr}, 2) END)"


def region_of_departement(dep: str) -> str | None:
    """``04`` → ``93``; ``None`` for a code outside the official list."""
    known = DEPARTEMENTS.get(dep)
    return known[1] if known else None


def normalise_departement(raw: str) -> str | None:
    """``4`` → ``04``, ``2a`` → ``2A``, ``971`` stays; ``None`` when not a département code."""
    value = str(raw).strip().upper()
    if value.isdigit() and len(value) == 1:
        value = "0" + value
    return value if value in DEPARTEMENTS else None


def is_commune_code(value: str) -> bool:
    """A commune code of a known département: ``04112``, ``2B033``, ``97411``."""
    return bool(COMMUNE_RE.match(value)) and departement_of_commune(value) in DEPARTEMENTS


# Level of a code → the level of ``obs.territory``.
LEVEL_NAMES = {
    "FRA": "pays",
    "REG": "region",
    "DEP": "departement",
    "COM": "commune",
    "IRIS": "iris",
    "QPV": "qpv",
    "GRP": "groupe",
}
PREFIXES = {name: level for level, name in LEVEL_NAMES.items()}
# Each level in words, and how it may be written, for the messages.
_WORDS = {
    "COM": "commune",
    "DEP": "département",
    "REG": "région",
    "FRA": "France",
    "IRIS": "IRIS",
    "QPV": "quartier prioritaire",
    "GRP": "groupe de comparaison",
}
_EXAMPLES = {
    "COM": "code INSEE 04112 ou COM:04112",
    "DEP": "04, 2A, 971 ou DEP:04",
    "REG": "REG:93",
    "FRA": "FRA",
    "IRIS": "IRIS:041120101",
    "QPV": "QPV:QN00402M",
    "GRP": "GRP:<nom>",
}
FORMS = {level: f"{_WORDS[level]} ({_EXAMPLES[level]})" for level in LEVEL_NAMES}


class InvalidTerritory(NotFound):
    """A territory code that does not read, or of a level the caller does not take."""


@dataclass(frozen=True)
class TerritoryCode:
    """A territory: ``level`` (``COM``, ``DEP``, ``REG``, ``FRA``, ``IRIS``, ``QPV``, ``GRP``) and ``code``,
    the part after the colon (empty for ``FRA``). Built by :meth:`parse` from what a person or a file writes;
    the constructor itself trusts its caller."""

    level: str
    code: str = ""

    def __str__(self) -> str:
        return FRANCE if self.level == "FRA" else f"{self.level}:{self.code}"

    @classmethod
    def parse(cls, text: object, levels: tuple[str, ...] | None = None) -> TerritoryCode:
        """Read a full code or a bare INSEE code; :class:`InvalidTerritory` (French message naming the value
        and the accepted forms) otherwise, or when its level is not among ``levels``."""
        accepted = levels or tuple(FORMS)
        raw = "" if text is None else str(text).strip()
        found, why = _read(raw)
        if found is not None and found.level in accepted:
            return found
        if found is not None:
            why = f"niveau {_WORDS[found.level]} non accepté ici"
        detail = f" ({why})" if why else ""
        raise InvalidTerritory(
            f"Territoire invalide : « {raw} »{detail}. Formes acceptées : "
            + ", ".join(FORMS[lv] for lv in accepted)
            + "."
        )

    @property
    def level_name(self) -> str:
        """The level as ``obs.territory`` names it: ``commune``, ``departement``…"""
        return LEVEL_NAMES[self.level]

    @property
    def commune(self) -> TerritoryCode | None:
        """The commune of a commune or an IRIS."""
        if self.level == "COM":
            return self
        return TerritoryCode("COM", self.code[:5]) if self.level == "IRIS" else None

    @property
    def departement(self) -> TerritoryCode | None:
        """The département of a commune, an IRIS or a département."""
        if self.level == "DEP":
            return self
        commune = self.commune
        return TerritoryCode("DEP", departement_of_commune(commune.code)) if commune else None

    @property
    def region(self) -> TerritoryCode | None:
        """The région of a région, or of a département of the official list (and what lies in it)."""
        if self.level == "REG":
            return self
        dep = self.departement
        reg = region_of_departement(dep.code) if dep else None
        return TerritoryCode("REG", reg) if reg else None

    @property
    def parent(self) -> TerritoryCode | None:
        """The territory just above: IRIS → commune → département → région → France; none for a QPV or a group."""
        if self.level == "IRIS":
            return self.commune
        if self.level == "COM":
            return self.departement
        if self.level == "DEP":
            return self.region
        return TerritoryCode("FRA") if self.level == "REG" else None

    @property
    def official_name(self) -> str | None:
        """The name the built-in tables give (France, régions, départements), else ``None``."""
        if self.level == "FRA":
            return "France"
        if self.level == "REG":
            return REGIONS.get(self.code)
        return DEPARTEMENTS[self.code][0] if self.level == "DEP" and self.code in DEPARTEMENTS else None


def _read(raw: str) -> tuple[TerritoryCode | None, str | None]:
    """(code, None), or (None, why it does not read)."""
    if not raw:
        return None, "code absent"
    prefix, sep, local = raw.partition(":")
    level, local = (prefix.strip().upper(), local.strip()) if sep else ("", raw)
    if not sep:
        if raw.upper() in ("FRA", "FRANCE"):
            return TerritoryCode("FRA"), None
        if len(raw) == 5:
            level = "COM"
        elif 1 <= len(raw) <= 3:
            level = "DEP"
        else:
            return None, None
    if level == "GRP":
        return (TerritoryCode("GRP", local), None) if local else (None, "nom du groupe absent")
    local = local.upper()
    if level in ("COM", "IRIS"):  # a commune, or an IRIS: its commune and 4 digits
        shape, why = (
            (COMMUNE_RE, "un code commune a 5 caractères")
            if level == "COM"
            else (_IRIS_RE, "un code IRIS a 9 caractères : code commune et 4 chiffres")
        )
        if not shape.match(local):
            return None, why
        dep = departement_of_commune(local)
        return (
            (TerritoryCode(level, local), None)
            if dep in DEPARTEMENTS
            else (None, f"département {dep} inconnu")
        )
    if level == "DEP":
        known = normalise_departement(local)
        if known:
            return TerritoryCode("DEP", known), None
        return None, f"département {local} inconnu" if _DEPARTEMENT_RE.match(local) else None
    if level == "REG":
        reg = local.zfill(2)
        if _REGION_RE.match(local) and reg in REGIONS:
            return TerritoryCode("REG", reg), None
        return None, f"région {local} inconnue" if _REGION_RE.match(local) else None
    if level == "QPV":
        return (TerritoryCode("QPV", local), None) if _QPV_RE.match(local) else (None, None)
    if level == "FRA":
        return (TerritoryCode("FRA"), None) if not local else (None, "FRA s'écrit sans code")
    return None, f"niveau « {prefix} » inconnu" if sep else None
