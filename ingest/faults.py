"""What a row of an export can get wrong, and the French message each fault gives.

An export is checked row by row (:func:`ingest.event_exports._stage`, any readable file) or column by column
(:func:`ingest.event_exports._stage_columns`, a regular file), and the personal-data guard likewise
(:class:`ingest.privacy.ContentGuard`, :func:`ingest.privacy.first_violation`): both readers take their
messages from this one table, so the same fault always reads the same. Coordinates are judged on the same
boxes by both.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest import departements
from ingest.departements import Box
from observatoire import geo_codes

MESSAGES: dict[str, str] = {
    "date_missing": "date absente ; renseignez la date (jj/mm/aaaa)",
    "date_unreadable": "date non reconnue ; écrivez-la jj/mm/aaaa (par ex. 14/07/2024) ou aaaa-mm-jj",
    "date_implausible": "date hors de la période plausible ({first_year} à aujourd'hui) ; vérifiez l'année",
    "time_unreadable": "heure non reconnue ; écrivez-la HH:MM ou HHhMM (par ex. 22:15 ou 22h15)",
    "label_missing": "{label} absente ; {advice}",
    "coordinates_unreadable": "coordonnée absente ou non numérique ; renseignez X et Y avec un nombre "
    "(virgule ou point décimal, jamais les deux ; des espaces seulement entre les milliers), ou laissez les "
    "deux vides",
    "coordinates_swapped": "longitude et latitude semblent inversées ; échangez les colonnes X et Y",
    "coordinates_outside": "coordonnées hors de France dans le système attendu ; attendu : {expected}",
    "coordinates_elsewhere": "coordonnées hors {area} ; vérifiez X et Y (leur ordre, leur signe, leurs "
    "décimales) et le système de coordonnées",
    "personal_value": "Import refusé : la colonne « {column} » contient, ligne {line}, une valeur qui ressemble "
    "à une donnée personnelle (règle : {rule}). {advice}",
}

# Boxes (x low, x high, y low, y high) in which a position reads as WGS84 degrees or Lambert-93 metres, and in
# which WGS84 degrees of France read as swapped (latitude written as X).
WGS84_BOX = (-180, 180, -90, 90)
LAMBERT93_BOX = (100_000, 1_300_000, 6_000_000, 7_200_000)
SWAPPED_BOX = (41, 52, -6, 10)


@dataclass(frozen=True)
class Area:
    """Where the positions of a file must lie: the boxes of the commune's département (in either system), or
    France's for a file without a known département."""

    name: str  # completes « coordonnées hors … »
    wgs84: tuple[Box, ...]
    lambert93: tuple[Box, ...]


FRANCE = Area(
    "de France",
    (departements.METROPOLE_WGS84, *(departements.WGS84[c] for c in departements.WGS84 if len(c) == 3)),
    (departements.METROPOLE_LAMBERT93,),
)


def area_of(commune: str | None) -> Area:
    """The département of ``commune`` (an INSEE code), or France when it has no box."""
    if not commune or not geo_codes.is_commune_code(commune):
        return FRANCE
    code = geo_codes.departement_of_commune(commune)
    if code not in departements.WGS84:
        return FRANCE
    name = geo_codes.DEPARTEMENTS.get(code, (None,))[0]
    lambert93 = departements.LAMBERT93.get(code)
    return Area(
        f"du département {code}" + (f" ({name})" if name else ""),
        (departements.WGS84[code],),
        (lambert93,) if lambert93 else (),
    )


def message(fault: str, **values: object) -> str:
    """The message of ``fault`` (a key of :data:`MESSAGES`), its blanks filled with ``values``."""
    return MESSAGES[fault].format(**values)
