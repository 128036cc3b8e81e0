"""Which accidents belong to a territory: one scope object shared by the BAAC import and the queries."""

from __future__ import annotations

import re
from dataclasses import dataclass

from observatoire import geo_codes
from observatoire.errors import InputFileError

_DEP_RE = re.compile(r"^(\d{2,3}|2[AB])$")
_COM_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def departement_of(insee: str) -> str:
    """Département of a commune code, overseas collectivities (``987…``, ``975…``) included."""
    return insee[:3] if insee[:2] in ("97", "98") else insee[:2]


def region_of(dep: str) -> str | None:
    known = geo_codes.DEPARTEMENTS.get(dep)
    return known[1] if known else None


@dataclass(frozen=True)
class Scope:
    """A commune, département, région, France, or (queries only) an IRIS or QPV."""

    kind: str  # COM, DEP, REG, FRA, IRIS, QPV
    local: str

    @property
    def code(self) -> str:
        return "FRA" if self.kind == "FRA" else f"{self.kind}:{self.local}"

    def keeps(self, insee: str, dep: str, reg: str | None) -> bool:
        """Whether an accident of this commune belongs to the scope (import filter)."""
        if self.kind == "FRA":
            return True
        if self.kind == "COM":
            return insee == self.local
        if self.kind == "DEP":
            return dep == self.local
        if self.kind == "REG":
            return reg == self.local
        raise InputFileError("Le filtre d'import attend une commune, un département ou une région.")

    def predicate(self, alias: str = "a") -> tuple[str, dict[str, str]]:
        """SQL condition on ``obs.road_accident`` rows (alias ``alias``) and its parameters."""
        if self.kind == "FRA":
            return "TRUE", {}
        if self.kind == "COM":
            return f"{alias}.commune_insee = :scope_local", {"scope_local": self.local}
        if self.kind == "DEP":
            return f"{alias}.departement = :scope_local", {"scope_local": self.local}
        if self.kind == "REG":
            return f"{alias}.region = :scope_local", {"scope_local": self.local}
        # Infra-communal zones have no code in the BAAC: only geolocated accidents can be placed in them.
        return (
            f"ST_Intersects({alias}.geom, (SELECT geom FROM obs.territory WHERE code = :scope_code))",
            {"scope_code": self.code},
        )

    def covered_by(self, other_code: str, parent_commune: str | None = None) -> bool:
        """Whether an import limited to ``other_code`` loaded everything of this scope."""
        other = parse_scope(other_code)
        if other.kind == "FRA":
            return True
        if self.kind in ("IRIS", "QPV"):
            commune = self.local[:5] if self.kind == "IRIS" else parent_commune
            return commune is not None and Scope("COM", commune).covered_by(other_code)
        if self.kind == "FRA":
            return False
        if other.kind == self.kind:
            return other.local == self.local
        dep = self.local if self.kind == "DEP" else departement_of(self.local) if self.kind == "COM" else None
        if other.kind == "DEP":
            return self.kind == "COM" and dep == other.local
        if other.kind == "REG":
            return dep is not None and region_of(dep) == other.local
        return False


def parse_scope(code: str | None) -> Scope:
    """``COM:04112``, ``04112``, ``DEP:04``, ``04``, ``REG:93``, ``FRA``, ``IRIS:…``, ``QPV:…``."""
    if code is None or not str(code).strip() or str(code).strip().upper() in ("FRA", "FRANCE"):
        return Scope("FRA", "")
    value = str(code).strip().upper()
    kind, sep, local = value.partition(":")
    if not sep:
        kind, local = ("COM" if _COM_RE.match(value) else "DEP" if _DEP_RE.match(value) else "?"), value
    if kind == "DEP" and local.isdigit() and len(local) == 1:
        local = "0" + local
    ok = (
        (kind == "COM" and _COM_RE.match(local))
        or (kind == "DEP" and _DEP_RE.match(local))
        or (kind == "REG" and local.isdigit() and len(local) == 2)
        or (kind in ("IRIS", "QPV") and local)
    )
    if not ok:
        raise InputFileError(
            f"Territoire non reconnu : {code!r}. Attendu par exemple COM:04112 (ou 04112), DEP:04 (ou 04), "
            "REG:93 ou FRA."
        )
    return Scope(kind, local)
