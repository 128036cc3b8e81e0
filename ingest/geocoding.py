"""Address normalisation and matching against the Base Adresse Nationale, with a score.

Pure Python over the commune's addresses held in memory: a commune has a few thousand to a few hundred
thousand addresses, and exports repeat the same places, so each distinct place string is matched once.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Connection

# First word of the street: its abbreviations as officers and software write them.
STREET_TYPES = {
    "av": "avenue",
    "ave": "avenue",
    "avn": "avenue",
    "avenue": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "blvd": "boulevard",
    "boul": "boulevard",
    "boulevard": "boulevard",
    "r": "rue",
    "rue": "rue",
    "ch": "chemin",
    "che": "chemin",
    "chem": "chemin",
    "chemin": "chemin",
    "pl": "place",
    "place": "place",
    "imp": "impasse",
    "impasse": "impasse",
    "all": "allee",
    "al": "allee",
    "allee": "allee",
    "allees": "allees",
    "rte": "route",
    "rt": "route",
    "route": "route",
    "fg": "faubourg",
    "fbg": "faubourg",
    "faubourg": "faubourg",
    "sq": "square",
    "square": "square",
    "crs": "cours",
    "cours": "cours",
    "qu": "quai",
    "quai": "quai",
    "lot": "lotissement",
    "lotissement": "lotissement",
    "res": "residence",
    "resid": "residence",
    "residence": "residence",
    "tra": "traverse",
    "trav": "traverse",
    "traverse": "traverse",
    "mte": "montee",
    "montee": "montee",
    "pass": "passage",
    "passage": "passage",
    "prom": "promenade",
    "promenade": "promenade",
    "rpt": "rond-point",
    "rdpt": "rond-point",
    "esp": "esplanade",
    "esplanade": "esplanade",
    "ham": "hameau",
    "hameau": "hameau",
    "pkg": "parking",
    "parking": "parking",
    "cite": "cite",
    "sen": "sentier",
    "sentier": "sentier",
    "quartier": "quartier",
    "qua": "quartier",
    "qrt": "quartier",
    "za": "zone",
    "zac": "zone",
    "zi": "zone",
    "zone": "zone",
    "vla": "villa",
    "villa": "villa",
    "pont": "pont",
    "rampe": "rampe",
    "draille": "draille",
    "carraire": "carraire",
    "clos": "clos",
    "domaine": "domaine",
    "dom": "domaine",
    "parc": "parc",
    "port": "porte",
    "pte": "porte",
    "porte": "porte",
}
TITLES = {
    "st": "saint",
    "ste": "sainte",
    "sts": "saints",
    "gal": "general",
    "gl": "general",
    "mal": "marechal",
    "pdt": "president",
    "pres": "president",
    "dr": "docteur",
    "doct": "docteur",
    "prof": "professeur",
    "cdt": "commandant",
    "lt": "lieutenant",
    "cpt": "capitaine",
    "cap": "capitaine",
    "mgr": "monseigneur",
    "ns": "notre",
    "nd": "notre dame",
    "vx": "vieux",
    "gd": "grand",
    "gde": "grande",
    "pt": "petit",
}
STOPWORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "et", "a", "au", "aux", "en", "sur", "sous"}
REPETITIONS = {
    "b": "bis",
    "bis": "bis",
    "t": "ter",
    "ter": "ter",
    "q": "quater",
    "qua": "quater",
    "quater": "quater",
    "quinquies": "quinquies",
}
_LEADING_JUNK = {
    "angle",
    "carrefour",
    "face",
    "devant",
    "pres",
    "proche",
    "proximite",
    "niveau",
    "hauteur",
    "vers",
    "entree",
    "sortie",
    "au",
    "aux",
    "du",
    "de",
    "la",
    "le",
    "l",
    "d",
    "n",
    "no",
    "num",
}

_NUMBER = re.compile(
    r"^(\d{1,5})(?!\d)(?:\s+\d{1,5}(?=\s+[a-z]))?"  # 12, 12-14
    r"(?:\s*(bis|ter|quater|quinquies|qua)(?![a-z])|([a-z])(?![a-z])|\s+([a-h])(?![a-z]))?"  # 12 bis, 366k, 12 b
    r"\s*(.*)$"
)
_POSTCODE_TAIL = re.compile(r"(?<=[a-z])\s+\d{4,5}(?:\s+[a-z][a-z ]*)?$")  # "… giono 04100 manosque"


@dataclass(frozen=True)
class ParsedAddress:
    numero: int | None
    rep: str | None
    street: str  # normalised full street name: ``avenue jean giono``
    key: str  # match key: the street without articles: ``avenue jean giono``, ``chemin forestiere``

    @property
    def core(self) -> str:
        """The key without its street type, for ``bd Giono`` against ``avenue Jean Giono``'s neighbours."""
        words = self.key.split()
        return " ".join(words[1:]) if words and words[0] in STREET_TYPES.values() else self.key

    @property
    def text(self) -> str:
        number = f"{self.numero}{' ' + self.rep if self.rep else ''} " if self.numero is not None else ""
        return (number + self.street).strip()


def fold(text: str) -> str:
    """Lower case, no accents, punctuation as spaces."""
    text = re.sub(r"[’‘ʼ`´]", " ", text)  # typographic apostrophes would otherwise glue words: l’adrech
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def normalise_rep(rep: str | None) -> str | None:
    if not rep:
        return None
    rep = fold(rep)
    return REPETITIONS.get(rep, rep) or None


def street_key(street: str) -> str:
    return " ".join(w for w in fold(street).split() if w not in STOPWORDS)


_ADJECTIVES = {
    "vieux",
    "vieille",
    "ancien",
    "ancienne",
    "grand",
    "grande",
    "petit",
    "petite",
    "nouveau",
    "nouvelle",
    "haut",
    "haute",
    "bas",
    "basse",
}


def _expand(words: list[str]) -> list[str]:
    out: list[str] = []
    type_at = 1 if len(words) > 1 and words[0] in _ADJECTIVES else 0  # « Vieux ch. de Forcalquier »
    for i, word in enumerate(words):
        if i == type_at and word in STREET_TYPES:
            out.extend(STREET_TYPES[word].split())
        else:
            out.extend(TITLES.get(word, word).split())
    return out


def normalise_address(raw: str, commune: str | None = None) -> ParsedAddress:
    """Number, repetition index and normalised street of a free address string.

    Handles ``12 bis av. Jean Giono``, ``1, Chemin de la Forestière, 4100, Manosque``,
    ``12B bd des Tilleuls 04100 MANOSQUE``, ``angle rue X / rue Y`` (the first street).
    """
    text = re.split(r"\s+/\s+|\s+x\s+|\s+et\s+(?=(?:rue|av|bd|chemin|place)\b)", raw.strip(), maxsplit=1)[0]
    text = re.sub(r"\bn[°o]\.?\s*(?=\d)", "", text, flags=re.IGNORECASE)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    # A postcode part and whatever follows it (the commune) are not the street.
    for i, part in enumerate(parts):
        if i > 0 and re.fullmatch(r"\d{4,5}(\s+.*)?", part):
            parts = parts[:i]
            break
    if commune and len(parts) > 1 and fold(parts[-1]) == fold(commune):
        parts = parts[:-1]
    folded = fold(" ".join(parts))
    folded = _POSTCODE_TAIL.sub("", folded).strip()
    # A bare trailing commune name is kept: « Les Hauts de Manosque » is a street of Manosque.
    words = folded.split()
    while words and words[0] in _LEADING_JUNK and len(words) > 1:
        words = words[1:]
    folded = " ".join(words)
    numero = rep = None
    m = _NUMBER.match(folded)
    if m and m.group(5):
        numero, folded = int(m.group(1)), m.group(5)
        rep = normalise_rep(m.group(2) or m.group(3) or m.group(4))
    words = _expand(folded.split())
    street = " ".join(words)
    return ParsedAddress(numero, rep, street, " ".join(w for w in words if w not in STOPWORDS))


@dataclass(frozen=True)
class Match:
    lon: float
    lat: float
    score: float
    how: str  # numero | numero_proche | voie | aucun


class Geocoder:
    """Matches address strings to the addresses of one commune."""

    def __init__(
        self,
        addresses: Iterable[tuple[int | None, str | None, str, float, float]],
        commune_name: str | None = None,
        threshold: float = 0.5,
    ):
        self.commune_name = commune_name
        self.threshold = threshold
        self.streets: dict[str, dict[tuple[int | None, str | None], tuple[float, float]]] = {}
        for numero, rep, key, lon, lat in addresses:
            self.streets.setdefault(key, {})[(numero, normalise_rep(rep))] = (lon, lat)
        by_core: dict[str, list[str]] = {}
        for key in self.streets:
            by_core.setdefault(ParsedAddress(None, None, key, key).core, []).append(key)
        self._core = {core: keys[0] for core, keys in by_core.items() if len(keys) == 1}
        self._keys = list(self.streets)
        self._street_cache: dict[str, tuple[str, float] | None] = {}
        self._centre: dict[str, tuple[float, float]] = {}

    def __len__(self) -> int:
        return sum(len(v) for v in self.streets.values())

    def _street(self, parsed: ParsedAddress) -> tuple[str, float] | None:
        key = parsed.key
        if key in self._street_cache:
            return self._street_cache[key]
        found: tuple[str, float] | None = None
        if key in self.streets:
            found = (key, 1.0)
        elif parsed.core in self._core:
            found = (self._core[parsed.core], 0.9)
        elif key:
            close = difflib.get_close_matches(key, self._keys, n=1, cutoff=0.85)
            if close:
                found = (close[0], 0.85 * difflib.SequenceMatcher(None, key, close[0]).ratio())
        self._street_cache[key] = found
        return found

    def _centroid(self, key: str) -> tuple[float, float]:
        if key not in self._centre:
            points = list(self.streets[key].values())
            self._centre[key] = (
                sum(p[0] for p in points) / len(points),
                sum(p[1] for p in points) / len(points),
            )
        return self._centre[key]

    def match(self, raw: str) -> Match | None:
        """Best address for ``raw``; None when nothing scores above the threshold."""
        if not raw or not raw.strip():
            return None
        parsed = normalise_address(raw, self.commune_name)
        street = self._street(parsed)
        if street is None:
            return None
        key, street_score = street
        numbers = self.streets[key]
        if parsed.numero is not None:
            point = numbers.get((parsed.numero, parsed.rep))
            if point:
                return self._keep(Match(point[0], point[1], street_score, "numero"))
            point = numbers.get((parsed.numero, None))
            if point:
                return self._keep(Match(point[0], point[1], street_score * 0.95, "numero"))
            numbered = [(n, r) for n, r in numbers if n is not None]
            if numbered:
                # Same side of the street first (parity), then the closest number.
                best = min(numbered, key=lambda nr: ((nr[0] - parsed.numero) % 2, abs(nr[0] - parsed.numero)))
                lon, lat = numbers[best]
                return self._keep(Match(lon, lat, street_score * 0.8, "numero_proche"))
        lon, lat = self._centroid(key)
        return self._keep(Match(lon, lat, street_score * 0.6, "voie"))

    def _keep(self, match: Match) -> Match | None:
        return match if match.score >= self.threshold else None


def load_geocoder(conn: Connection, code_insee: str, commune_name: str | None = None) -> Geocoder:
    """The geocoder of one commune from ``obs.ban_address`` (empty when the BAN is not loaded)."""
    import sqlalchemy as sa

    rows = conn.execute(
        sa.text(
            "SELECT numero, rep, street_key, ST_X(geom), ST_Y(geom) FROM obs.ban_address WHERE code_insee = :c"
        ),
        {"c": code_insee},
    ).all()
    if commune_name is None:
        commune_name = conn.execute(
            sa.text("SELECT nom_commune FROM obs.ban_address WHERE code_insee = :c LIMIT 1"),
            {"c": code_insee},
        ).scalar()
    return Geocoder((tuple(r) for r in rows), commune_name)
