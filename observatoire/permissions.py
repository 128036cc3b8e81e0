"""Who may do what: the one table every page, callback, download and CLI command consults."""

from __future__ import annotations

ROLES: dict[str, str] = {
    "admin": "Administration",
    "analyste": "Analyste / coordination du CLSPDR",
    "conseil": "Conseil restreint (lecture seule)",
    "police_municipale": "Police municipale",
    "videoprotection": "Vidéoprotection (CSU)",
}

_ALL = frozenset(ROLES)
_READERS = frozenset({"admin", "analyste", "conseil"})
_DATA = frozenset({"admin", "analyste"})

# permission -> roles. Later capabilities add their line here, nowhere else.
PERMISSIONS: dict[str, frozenset[str]] = {
    "accueil.voir": _ALL,
    "compte.voir": _ALL,
    "stats.voir": _READERS,
    "stats.exporter": _DATA,
    "donnees.importer": _DATA,
    "imports.voir": _DATA | {"police_municipale"},
    "imports.annuler": _DATA,
    "pm.importer": _DATA | {"police_municipale"},
    "pm.voir": _READERS | {"police_municipale"},
    "pm.nomenclature": _DATA,
    "pn.nomenclature": _DATA,
    "carte.voir": _READERS | {"police_municipale"},
    "routes.voir": _READERS,
    "video.gerer": frozenset({"admin", "videoprotection"}),
    "video.voir": _DATA | {"videoprotection"},
    "video.synthese": _READERS
    | {"videoprotection"},  # the page's aggregated indicators, the council included
    "actions.gerer": _DATA,
    "actions.voir": _READERS,
    # Validation of the yearly values belongs to the statutory members (the conseil restreint) and the admin.
    "actions.valider": frozenset({"admin", "conseil"}),
    "actions.exporter": _READERS,  # the plenary table is printed for the conseil
    "enquetes.voir": _READERS,
    "synthese.voir": _READERS,
    "audit.voir": frozenset({"admin"}),
    "utilisateurs.gerer": frozenset({"admin"}),
    # the Exports page: the council only at the plenary / public level (observatoire.exports.audience)
    "exports.produire": _READERS,
}

# Roles that only ever see aggregated figures with small counts masked.
AGGREGATE_ONLY = frozenset({"conseil"})


def allowed(role: str | None, permission: str) -> bool:
    """Deny by default: an unknown permission is a programming error caught by the route probe test."""
    if role is None:
        return False
    try:
        return role in PERMISSIONS[permission]
    except KeyError:
        raise KeyError(f"permission non déclarée dans observatoire.permissions : {permission!r}") from None


def check_role(role: str) -> str:
    if role not in ROLES:
        from observatoire.errors import ObservatoireError

        raise ObservatoireError(f"Rôle inconnu : {role!r}. Rôles possibles : {', '.join(ROLES)}.")
    return role
