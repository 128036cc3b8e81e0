"""The personal-data guard: the observatoire is not a file of persons (charter of deontology, CNIL).

A header or a value that looks nominative stops the import before anything is staged. Messages name the
column, the line and the rule, never the value itself, so the refusal report holds no personal data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from observatoire.errors import PersonalDataRefused
from observatoire.text import normalise_header

# (rule shown to the user, test on the normalised header's words)
_PLACE_WORDS = {
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
}


def _has(words: list[str], *phrases: str) -> bool:
    text = " " + " ".join(words) + " "
    return any(f" {p} " in text for p in phrases)


HEADER_RULES: tuple[tuple[str, object], ...] = (
    (
        "nom de personne",
        lambda w: ("nom" in w or "noms" in w or "patronyme" in w) and not (set(w) & _PLACE_WORDS),
    ),
    ("prénom", lambda w: bool({"prenom", "prenoms"} & set(w))),
    (
        "date ou lieu de naissance",
        lambda w: "naissance" in w or _has(w, "ne le", "nee le", "ne e le", "ne a"),
    ),
    ("numéro de téléphone", lambda w: bool({"telephone", "tel", "portable", "mobile", "gsm"} & set(w))),
    (
        "adresse électronique",
        lambda w: bool({"courriel", "email", "mail", "mel"} & set(w)) or _has(w, "e mail"),
    ),
    ("immatriculation ou plaque", lambda w: bool({"immatriculation", "immat", "plaque", "plaques"} & set(w))),
    (
        "texte libre (observations, commentaires)",
        lambda w: (
            bool(
                {
                    "observation",
                    "observations",
                    "commentaire",
                    "commentaires",
                    "remarque",
                    "remarques",
                    "recit",
                    "narration",
                    "note",
                    "notes",
                    "details",
                    "precisions",
                }
                & set(w)
            )
            or _has(w, "compte rendu")
        ),
    ),
    (
        "identité d'une personne",
        lambda w: (
            bool(
                {
                    "identite",
                    "victime",
                    "victimes",
                    "requerant",
                    "contrevenant",
                    "auteur",
                    "auteurs",
                    "interpelle",
                }
                & set(w)
            )
            or _has(w, "mis en cause", "personne concernee")
        ),
    ),
    (
        "numéro de sécurité sociale ou de permis",
        lambda w: _has(w, "securite sociale", "permis de conduire", "nir"),
    ),
)

_PHONE = re.compile(r"(?<![\d])(?:(?:\+|00)\s?33\s?\(?0?\)?\s?|0)[1-9](?:[\s.\-]?\d{2}){4}(?![\d])")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+\.[\w.\-]+")
_PLATE_SIV = re.compile(r"\b[A-Z]{2}[\s\-]\d{3}[\s\-][A-Z]{2}\b", re.IGNORECASE)
_PLATE_FNI = re.compile(r"\b\d{2,4}\s?[A-Z]{2,3}\s?(?:0[1-9]|[1-8]\d|9[0-5]|2A|2B)\b")  # upper case only
CONTENT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("numéro de téléphone", _PHONE),
    ("adresse électronique", _EMAIL),
    ("immatriculation", _PLATE_SIV),
    ("immatriculation", _PLATE_FNI),
)
# One pass over a value that is none of the above (the usual case) instead of one per rule.
_ANY = re.compile(
    "|".join(f"(?{'i' if p.flags & re.IGNORECASE else ''}:{p.pattern})" for _, p in CONTENT_RULES)
)
FREE_TEXT_LENGTH = 150  # longer values are narratives, not categories or addresses

ADVICE = (
    "L'observatoire ne conserve aucune donnée nominative (charte de déontologie du CLSPDR) : "
    "retirez cette colonne ou ces valeurs de l'export, puis recommencez. Rien n'a été enregistré."
)


def header_rule(name: str) -> str | None:
    """The rule a header breaks, or None."""
    words = normalise_header(name).split()
    if not words:
        return None
    for rule, test in HEADER_RULES:
        if test(words):  # type: ignore[operator]
            return rule
    return None


def check_header(header: Sequence[str]) -> None:
    """Refuse a file one of whose columns is nominative, whether or not it is mapped."""
    for position, name in enumerate(header, start=1):
        rule = header_rule(name)
        if rule:
            raise PersonalDataRefused(
                f"Import refusé : la colonne « {name} » (n° {position}) ressemble à une donnée personnelle "
                f"(règle : {rule}). {ADVICE}"
            )


def value_rule(value: str) -> str | None:
    if len(value) > FREE_TEXT_LENGTH:
        return f"texte libre de plus de {FREE_TEXT_LENGTH} caractères"
    if not _ANY.search(value):
        return None
    for rule, pattern in CONTENT_RULES:
        if pattern.search(value):
            return rule
    return None


class ContentGuard:
    """Checks values as rows stream by; each distinct value of a column is checked once."""

    def __init__(self, header: Sequence[str], skip: Iterable[int] = ()):
        self.header = list(header)
        self.skip = set(skip)  # strictly parsed columns (dates, coordinates) cannot hide a name
        self._seen: list[set[str]] = [set() for _ in self.header]

    def check(self, line: int, row: Sequence[str]) -> None:
        for i, value in enumerate(row):
            if i in self.skip or not value or i >= len(self._seen):
                continue
            seen = self._seen[i]
            if value in seen:
                continue
            rule = value_rule(value)
            if rule:
                raise PersonalDataRefused(
                    f"Import refusé : la colonne « {self.header[i]} » contient, ligne {line}, une valeur qui "
                    f"ressemble à une donnée personnelle (règle : {rule}). {ADVICE}"
                )
            if len(seen) < 50_000:  # bounded memory on columns of unique values
                seen.add(value)


# The content rules as RE2 patterns for whole columns (pyarrow): each one matches at least every value its
# Python rule matches (no look-arounds or word boundaries in RE2, so these are dropped, and Python's
# Unicode ``\s``/``\d`` are spelt out), so a value none of them matches is clean; a value one of them matches
# is then checked by :func:`value_rule` itself. The guard thus refuses exactly what the row-by-row one does.
_WS = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}]"
_D = r"\p{Nd}"
_LETTER_I = r"[A-Za-z\x{130}\x{131}\x{17f}\x{212a}]"  # [A-Z] under re.IGNORECASE also takes İ ı ſ K
COLUMN_PREFILTER = "|".join(
    (
        rf"(?:(?:\+|00){_WS}?33{_WS}?\(?0?\)?{_WS}?|0)[1-9](?:(?:{_WS}|[.\-])?{_D}{_D}){{4}}",  # _PHONE
        "@",  # _EMAIL needs one
        rf"{_LETTER_I}{{2}}(?:{_WS}|-){_D}{{3}}(?:{_WS}|-){_LETTER_I}{{2}}",  # _PLATE_SIV
        rf"{_D}{{2}}{_WS}?[A-Z]{{2,3}}{_WS}?(?:0[1-9]|[1-8]{_D}|9[0-5]|2A|2B)",  # _PLATE_FNI
    )
)


def first_violation(
    header: Sequence[str],
    columns: Sequence[object],
    lines: object,
    skip: Iterable[int] = (),
    ignore: object = None,
) -> None:
    """The guard over whole columns (pyarrow string arrays, one per header column): raises as
    :class:`ContentGuard` would on the first offending row, naming the same column, line and rule.

    ``lines`` gives each row's line number (numpy array); ``ignore`` (numpy bool array, optional) marks rows
    the row reader skips (blank rows). A dictionary-encoded column is checked once per distinct value. Candidates are found at C speed, then checked by :func:`value_rule`.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    skip = set(skip)
    hits: list[tuple[int, int, str]] = []  # (row, column, rule)
    for i, column in enumerate(columns):
        if i in skip or i >= len(header):
            continue
        values = column.dictionary if isinstance(column, pa.DictionaryArray) else column  # each distinct once
        suspect = pc.or_(
            pc.greater(pc.utf8_length(values), FREE_TEXT_LENGTH),
            pc.match_substring_regex(values, COLUMN_PREFILTER),
        )
        if not pc.any(suspect).as_py():
            continue
        if values is not column:
            suspect = suspect.take(column.indices)
            column = values.take(column.indices)
        rows = np.flatnonzero(suspect.to_numpy(zero_copy_only=False))
        checked: dict[str, str | None] = {}
        for row in rows:
            if ignore is not None and ignore[row]:
                continue
            value = column[int(row)].as_py()
            if value not in checked:
                checked[value] = value_rule(value) if value else None
            if checked[value]:
                hits.append((int(row), i, checked[value]))  # type: ignore[arg-type]
                break
    if hits:
        row, i, rule = min(hits)
        raise PersonalDataRefused(
            f"Import refusé : la colonne « {header[i]} » contient, ligne {int(lines[row])}, une valeur qui "
            f"ressemble à une donnée personnelle (règle : {rule}). {ADVICE}"
        )
