"""Which accidents belong to a territory: one scope object shared by the BAAC import and the queries."""

from __future__ import annotations

from dataclasses import dataclass

from observatoire import geo_codes
from observatoire.errors import InputFileError
from observatoire.geo_codes import TerritoryCode

# The département and région of an accident's commune: the rules of :mod:`observatoire.geo_codes`.
departement_of = geo_codes.departement_of_commune
region_of = geo_codes.region_of_departement


@dataclass(frozen=True)
class Scope:
    """A commune, département, région, France, or (queries only) an IRIS or QPV."""

    territory: TerritoryCode

    @property
    def kind(self) -> str:  # COM, DEP, REG, FRA, IRIS, QPV
        return self.territory.level

    @property
    def local(self) -> str:
        return self.territory.code

    @property
    def code(self) -> str:
        return str(self.territory)

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
        other = parse_scope(other_code).territory
        own = self.territory
        if other.level == "FRA":
            return True
        if own.level in ("IRIS", "QPV"):
            commune = own.commune or (TerritoryCode("COM", parent_commune) if parent_commune else None)
            return commune is not None and Scope(commune).covered_by(other_code)
        if own.level == "FRA":
            return False
        if other.level == own.level:
            return other == own
        if other.level == "DEP":
            return own.level == "COM" and own.departement == other
        if other.level == "REG":
            return own.region == other
        return False


def parse_scope(code: str | None, levels: tuple[str, ...] | None = None) -> Scope:
    """A territory code as :class:`TerritoryCode` reads it (``COM:04112``, ``04112``, ``DEP:04``, ``04``,
    ``REG:93``, ``FRA``, ``IRIS:…``, ``QPV:…``); nothing means France."""
    if code is None or not str(code).strip():
        return Scope(TerritoryCode("FRA"))
    return Scope(TerritoryCode.parse(code, levels))
