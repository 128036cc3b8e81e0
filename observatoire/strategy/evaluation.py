"""Evaluation of a placed action: the events before and after its start in the target area against a
comparison area (the rest of the commune by default), a difference-in-differences estimate (ratio of the two
areas' before/after ratios, with its 95 % interval), and the weighted displacement difference (WDD, Wheeler &
Ratcliffe 2018) taking the surrounding buffer into account, said in a sentence a council member can read.

The comparison's change is scaled to each area's own level before the WDD difference, since the rest of the
commune holds many more events than a quartier: the WDD then reads « events prevented (or added) in the target
and its buffer, beyond what the comparison's trend predicts ».
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire import french
from observatoire.errors import NotFound, ObservatoireError
from observatoire.geo_codes import TerritoryCode

Z95 = 1.959964
MIN_MONTHS = 3
MAX_MONTHS = 24
MIN_EVENTS = 20  # before and after together, in the target: fewer gives intervals that say nothing
AREA_LABELS = {"cible": "Zone de l'action", "couronne": "Couronne", "comparaison": "Zone de comparaison"}


@dataclass
class Evaluation:
    start: date
    months: int
    buffer_m: int
    counts: dict[str, tuple[int, int]]  # area → (before, after)
    ratio: float  # difference in differences, as a ratio: 0.62 = −38 % beyond the comparison's trend
    ratio_low: float
    ratio_high: float
    ring_ratio: float
    ring_low: float
    ring_high: float
    wdd: float
    wdd_se: float
    monthly: pd.DataFrame = field(repr=False)

    @property
    def significant(self) -> bool:
        return self.ratio_high < 1 or self.ratio_low > 1

    @property
    def displacement(self) -> bool:
        return self.ring_low > 1

    def sentence(self, what: str = "faits") -> str:
        tb, ta = self.counts["cible"]
        cb, ca = self.counts["comparaison"]
        change = (ca / cb - 1) * 100 if cb else float("nan")
        effect = (self.ratio - 1) * 100
        low, high = (self.ratio_low - 1) * 100, (self.ratio_high - 1) * 100
        period = f"{self.months} mois avant et {self.months} mois après le {french.day(self.start)}"
        text = (
            f"Dans la zone de l'action, les {what} sont passés de {french.number(tb)} à {french.number(ta)} "
            f"({period}) ; dans la zone de comparaison, ils ont évolué de {french.signed(change, 0)} %. "
        )
        if self.significant:
            sens = "une baisse" if effect < 0 else "une hausse"
            text += (
                f"Compte tenu de cette évolution, l'action s'accompagne d'{sens} de {french.number(abs(effect), 0)} % "
                f"(intervalle de confiance à 95 % : {french.signed(low, 0)} % à {french.signed(high, 0)} %), "
                "plus forte que ce que le hasard produit d'ordinaire. "
            )
        else:
            text += (
                f"L'écart avec la zone de comparaison ({french.signed(effect, 0)} %, intervalle de confiance à 95 % : "
                f"{french.signed(low, 0)} % à {french.signed(high, 0)} %) ne se distingue pas des variations dues "
                "au hasard : on ne peut pas conclure à un effet. "
            )
        text += f"Autour de la zone (couronne de {self.buffer_m} m) : " + (
            "les faits augmentent plus qu'ailleurs, signe possible d'un déplacement. "
            if self.displacement
            else "pas de déplacement visible. "
        )
        text += (
            f"Bilan net, couronne comprise (WDD) : {french.signed(self.wdd, 0)} {what} "
            f"(± {french.number(Z95 * self.wdd_se, 0)}). Il s'agit d'une association observée, pas d'une preuve."
        )
        return text


def place_geometry(conn: Connection, place: str) -> str:
    """The area of an action as Lambert-93 WKT: ``IRIS:…`` / ``QPV:…`` (a territory), ``rues:Rue A;Rue B``
    (the addresses of those streets, 30 m around), or ``point:lon,lat,rayon`` (a camera's area)."""
    kind, _, rest = place.partition(":")
    kind = kind.strip().lower()
    if kind == "rues":
        from observatoire.text import normalise_header

        keys = [normalise_header(s) for s in rest.split(";") if s.strip()]
        wkt = conn.execute(
            sa.text(
                "SELECT ST_AsText(ST_Multi(ST_Union(ST_Buffer(ST_Transform(geom, 2154), 30)))) FROM obs.ban_address "
                "WHERE street_key = ANY(:k)"
            ),
            {"k": keys},
        ).scalar()
        if not wkt:
            raise NotFound(
                f"Aucune adresse connue pour les rues : {rest} (la Base Adresse Nationale est-elle chargée ?)."
            )
        return wkt
    if kind == "point":
        try:
            lon, lat, radius = (float(v) for v in rest.split(","))
        except ValueError:
            raise ObservatoireError(
                "Zone « point » attendue sous la forme point:longitude,latitude,rayon_m."
            ) from None
        return conn.execute(
            sa.text(
                "SELECT ST_AsText(ST_Multi(ST_Buffer(ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), 4326), 2154), :r)))"
            ),
            {"x": lon, "y": lat, "r": radius},
        ).scalar_one()
    code = str(TerritoryCode.parse(place))
    wkt = conn.execute(
        sa.text("SELECT ST_AsText(ST_Multi(ST_Transform(geom, 2154))) FROM obs.territory WHERE code = :c"),
        {"c": code},
    ).scalar()
    if not wkt:
        raise NotFound(f"Contour inconnu pour {code} : importez les contours de ce niveau.")
    return wkt


_COUNTS = """
WITH z AS (
    SELECT ST_GeomFromText(:target, 2154) AS target,
           ST_Buffer(ST_GeomFromText(:target, 2154), :buffer) AS zone,
           (SELECT ST_Transform(geom, 2154) FROM obs.territory WHERE code = :commune) AS commune
), a AS (
    SELECT target, ST_Difference(zone, target) AS ring,
           COALESCE(ST_GeomFromText(CAST(:comparison AS text), 2154), ST_Difference(commune, zone)) AS comparison,
           ST_Envelope(ST_Collect(commune, zone)) AS extent
    FROM z
)
SELECT CASE WHEN ST_Intersects(a.target, e.geom_l93) THEN 'cible'
            WHEN ST_Intersects(a.ring, e.geom_l93) THEN 'couronne'
            WHEN ST_Intersects(a.comparison, e.geom_l93) THEN 'comparaison' END AS area,
       date_trunc('month', e.occurred_at)::date AS month, count(*) AS n
FROM obs.event e, a
WHERE e.source = :source AND (CAST(:family AS text) IS NULL OR e.family = :family)
  AND e.occurred_at >= :first AND e.occurred_at < :last AND e.geom_l93 && a.extent
GROUP BY 1, 2
"""


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _ratio_ci(a: float, b: float, c: float, d: float) -> tuple[float, float, float]:
    """(a/b)/(c/d) and its 95 % interval on the log scale (Poisson counts; 0.5 added to an empty cell)."""
    if min(a, b, c, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    ratio = (a / b) / (c / d)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return ratio, math.exp(math.log(ratio) - Z95 * se), math.exp(math.log(ratio) + Z95 * se)


def estimate(
    counts: dict[str, tuple[int, int]],
) -> tuple[tuple[float, float, float], tuple[float, float, float], float, float]:
    """DiD ratio (target), DiD ratio (ring), WDD and its standard error, from (before, after) counts."""
    tb, ta = counts["cible"]
    db, da = counts["couronne"]
    cb, ca = counts["comparaison"]
    if cb == 0:
        raise ObservatoireError(
            "Aucun fait dans la zone de comparaison avant l'action : pas d'évaluation possible."
        )
    trend = ca / cb - 1
    wdd = (ta - tb) - tb * trend + (da - db) - db * trend
    var = ta + tb + da + db + ((tb + db) / cb) ** 2 * (ca + cb)
    return _ratio_ci(ta, tb, ca, cb), _ratio_ci(da, db, ca, cb), wdd, math.sqrt(var)


def evaluate(
    engine: Engine,
    target_wkt: str,
    start: date,
    *,
    source: str,
    commune: str,
    family: str | None = None,
    buffer_m: int = 300,
    months: int | None = None,
    comparison_wkt: str | None = None,
) -> Evaluation:
    start = date(start.year, start.month, 1)
    with engine.connect() as conn:
        last_event = conn.execute(
            sa.text("SELECT max(occurred_at)::date FROM obs.event WHERE source = :s"), {"s": source}
        ).scalar()
        if last_event is None:
            raise NotFound("Aucun événement de cette source n'est chargé : pas d'évaluation possible.")
        # months after the start up to the last month holding data (that month may be partial: both areas alike)
        available = (last_event.year - start.year) * 12 + last_event.month - start.month + 1
        window = min(months or MAX_MONTHS, available)
        if window < MIN_MONTHS:
            raise ObservatoireError(
                f"Moins de {MIN_MONTHS} mois de données après le début de l'action : évaluation prématurée."
            )
        frame = pd.read_sql_query(
            sa.text(_COUNTS),
            conn,
            params={
                "target": target_wkt,
                "buffer": buffer_m,
                "commune": str(TerritoryCode("COM", commune)),
                "comparison": comparison_wkt,
                "source": source,
                "family": family,
                "first": _add_months(start, -window),
                "last": _add_months(start, window),
            },
        )
    frame = frame[frame["area"].notna()]  # outside the commune and the zone
    frame["after"] = pd.to_datetime(frame["month"]).dt.date >= start
    counts = {
        area: (
            int(frame.loc[(frame["area"] == area) & ~frame["after"], "n"].sum()),
            int(frame.loc[(frame["area"] == area) & frame["after"], "n"].sum()),
        )
        for area in ("cible", "couronne", "comparaison")
    }
    if sum(counts["cible"]) < MIN_EVENTS:
        raise ObservatoireError(
            f"Trop peu d'événements dans la zone de l'action ({sum(counts['cible'])} en {2 * window} mois, il en faut "
            f"au moins {MIN_EVENTS}) : aucune évaluation n'est possible avec cette source sur cette zone."
        )
    (r, rl, rh), (g, gl, gh), wdd, se = estimate(counts)
    monthly = frame.pivot_table(index="month", columns="area", values="n", aggfunc="sum", fill_value=0)
    return Evaluation(start, window, buffer_m, counts, r, rl, rh, g, gl, gh, wdd, se, monthly.reset_index())


def define(
    engine: Engine,
    *,
    label: str,
    place: str,
    start: date,
    source: str,
    family: str | None = None,
    buffer_m: int = 300,
    fiche: str | None = None,
    code: str | None = None,
    user: str | None = None,
) -> int:
    """Record a placed action to evaluate (CLI ``plan evaluation`` and the demo)."""
    from observatoire.strategy import plan

    with engine.begin() as conn:
        wkt = place_geometry(conn, place)
        fiche_id = None
        if fiche:
            sid, *_ = plan.resolve(conn, code)
            fiche_id = conn.execute(
                sa.text("SELECT id FROM obs.action_fiche WHERE strategy_id = :s AND number = :n"),
                {"s": sid, "n": fiche.lower()},
            ).scalar()
            if fiche_id is None:
                raise NotFound(f"Fiche-action inconnue : {fiche}.")
        return conn.execute(
            sa.text(
                "INSERT INTO obs.action_evaluation (fiche_id, label, place, geom_l93, start_date, event_source, "
                "family, buffer_m, created_by) VALUES (:f, :l, :p, ST_Multi(ST_GeomFromText(:g, 2154)), :d, :s, "
                ":fam, :b, :u) RETURNING id"
            ),
            {
                "f": fiche_id,
                "l": label,
                "p": place,
                "g": wkt,
                "d": start,
                "s": source,
                "fam": family,
                "b": buffer_m,
                "u": user,
            },
        ).scalar_one()


def defined(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT v.id, v.label, v.place, ST_AsText(v.geom_l93) AS wkt, v.start_date, v.event_source, v.family, "
                "v.buffer_m, f.number AS fiche FROM obs.action_evaluation v LEFT JOIN obs.action_fiche f "
                "ON f.id = v.fiche_id ORDER BY v.id"
            )
        )
        return [dict(r._mapping) for r in rows]
