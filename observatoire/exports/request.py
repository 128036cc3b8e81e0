"""What an export is asked for: the filter of the map view, the layers, the audience, the method parameters,
and the French reading of a period typed on the command line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import disclosure, french
from observatoire.errors import InputFileError, NotFound
from observatoire.events.filter import EventFilter, for_role, where
from observatoire.exports import audience as aud

ORIENTATIONS = ("paysage", "portrait")
FORMATS = ("png", "pdf", "svg", "html", "gpkg", "csv", "xlsx")
DEFAULT_CELL, PLENARY_CELL = 150.0, 400.0


@dataclass(frozen=True)
class ExportRequest:
    """One export. ``role`` is the role of the person exporting (None: the command line, every source);
    ``login`` who made it, for the audit log."""

    filter: EventFilter = field(default_factory=EventFilter)
    layers: tuple[str, ...] = ("hotspots",)
    audience: str = aud.RESTREINT
    role: str | None = None
    login: str | None = None
    cell: float | None = None  # None: 150 m restricted, 400 m plenary (small cells would be mostly masked)
    permutations: int = 999
    orientation: str = "paysage"
    title: str | None = None

    def checked(self) -> ExportRequest:
        aud.check(self.audience, self.role)
        if self.cell is None:
            return replace(
                self, cell=PLENARY_CELL if self.audience == aud.PLENIER else DEFAULT_CELL
            ).checked()
        if self.orientation not in ORIENTATIONS:
            raise InputFileError(
                f"Orientation inconnue : « {self.orientation} » (possibles : {', '.join(ORIENTATIONS)})."
            )
        if not self.layers:
            raise InputFileError("Aucune couche demandée : choisissez au moins une couche.")
        if self.audience == aud.PLENIER and self.filter.sensitive is True:
            raise InputFileError(
                "Un export plénier ne montre aucune catégorie sensible sous l'échelle de la commune : "
                "retirez le filtre « catégories sensibles »."
            )
        return self

    @property
    def query_role(self) -> str | None:
        return aud.query_role(self.audience, self.role)

    def effective_filter(self) -> EventFilter:
        """The filter the figures follow: the role's sources, and for a plenary export the reporting period
        of the aggregate-only roles and no sensitive category (they are never placed below the commune)."""
        f = for_role(self.filter, self.query_role)
        if self.audience == aud.PLENIER:
            f = replace(f, sensitive=False)
        return f


def parse_period(text: str | None) -> tuple[date | None, date | None]:
    """``2023``, ``2023-T2``, ``2023-03``, ``2021-2023`` (years), ``2023-01-15:2023-02-10`` or ``tout``."""
    if not text or text.strip() in ("tout", ""):
        return None, None
    text = text.strip()
    try:
        if ":" in text:
            first, last = (date.fromisoformat(p.strip()) for p in text.split(":", 1))
            return min(first, last), max(first, last)
        years = re.fullmatch(r"(\d{4})-(\d{4})", text)
        if years:
            y0, y1 = sorted((int(years[1]), int(years[2])))
            return date(y0, 1, 1), date(y1, 12, 31)
        if re.fullmatch(r"\d{4}(-T[1-4]|-(0[1-9]|1[0-2]))?", text):
            period = disclosure.period_of_key(text)
            return period.start, period.end
    except ValueError:
        pass
    raise InputFileError(
        f"--period : période non reconnue « {text} » (par ex. 2023, 2023-T2, 2023-03, 2021-2023, "
        "2023-01-01:2023-06-30 ou tout)."
    )


def period_label(f: EventFilter) -> str:
    if f.start and f.end:
        period = disclosure.reporting_period(f.start, f.end)
        if (period.start, period.end) == (f.start, f.end):
            return period.label
        return f"du {french.day(f.start)} au {french.day(f.end)}"
    return f.describe()["periode"]


def check_not_empty(engine: Engine, f: EventFilter) -> int:
    """The number of events ``f`` selects; an empty selection or a period without data is refused in French,
    before any file is opened."""
    cond, params = where(f)
    with engine.connect() as conn:
        n = int(conn.execute(sa.text(f"SELECT count(*) FROM obs.event e WHERE {cond}"), params).scalar() or 0)
        if n:
            return n
        if f.start or f.end:
            wide = replace(f, start=None, end=None)
            cond, params = where(wide)
            first, last = conn.execute(
                sa.text(f"SELECT min(occurred_at), max(occurred_at) FROM obs.event e WHERE {cond}"), params
            ).one()
            if first is not None:
                raise NotFound(
                    f"Période sans données : aucun événement {period_label(f)} pour ces filtres "
                    f"(données chargées du {french.day(first)} au {french.day(last)})."
                )
    raise NotFound(
        "Sélection vide : aucun événement ne correspond à ces filtres (sources, catégories, territoire). "
        "Élargissez la sélection."
    )
