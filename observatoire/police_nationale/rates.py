"""The rate engine: count ÷ denominator × 1,000 per indicator, with the denominator's census vintage,
publication flags, exact Poisson intervals, and aggregates rebuilt from their parts.

Rules kept everywhere:
- one edition per result, named in every row; editions are never mixed;
- an aggregate (région, France, size group) is a sum of counts over a sum of denominators — never a
  mean of rates — and says how many of its parts it holds;
- an unpublished or missing value stays ``None``; it is never read as 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire import geo_codes
from observatoire.errors import NotFound
from observatoire.police_nationale import indicators
from observatoire.police_nationale.indicators import Indicator

LEVELS = ("commune", "departement", "region", "groupe", "france")
FRANCE_SCOPES = ("entiere", "metropole")
RECORD_KEYS = (
    "territory",
    "territory_name",
    "level",
    "indicator",
    "indicator_label",
    "year",
    "count",
    "denominator",
    "denominator_kind",
    "denominator_vintage",
    "rate_per_1000",
    "ci_low",
    "ci_high",
    "published",
    "edition",
)
EXTRA_KEYS = ("coverage", "members", "members_published", "rate_source", "note")
# Size classes of communes (inhabitants), the diagnostic compares with the commune's own class.
SIZE_CLASSES: tuple[tuple[int, int | None], ...] = (
    (0, 2_000),
    (2_000, 5_000),
    (5_000, 10_000),
    (10_000, 20_000),
    (20_000, 50_000),
    (50_000, 100_000),
    (100_000, None),
)


# Newest first; an edition named by its year only ("2026") counts from the 1st of January of that year.
EDITION_ORDER = (
    "COALESCE(e.produced_on, CASE WHEN e.code ~ '^[0-9]{4}' THEN make_date(left(e.code, 4)::int, 1, 1) END) "
    "DESC NULLS LAST, e.code DESC"
)


def poisson_interval(count: int | None, level: float = 0.95) -> tuple[float | None, float | None]:
    """Exact (Garwood) interval of a Poisson count, from the chi-square distribution."""
    if count is None:
        return None, None
    from scipy.stats import chi2

    alpha = 1 - level
    low = 0.0 if count == 0 else float(chi2.ppf(alpha / 2, 2 * count)) / 2
    high = float(chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
    return low, high


@dataclass(frozen=True)
class SizeGroup:
    low: int
    high: int | None
    scope: str = "entiere"

    @property
    def code(self) -> str:
        top = str(self.high) if self.high else "plus"
        return f"GRP:communes-{self.low}-{top}" + ("-metropole" if self.scope == "metropole" else "")

    @property
    def name(self) -> str:
        def fr(n: int) -> str:
            return f"{n:,}".replace(",", "\u202f")

        span = f"de {fr(self.low)} à {fr(self.high)}" if self.high else f"de {fr(self.low)} et plus"
        return f"Communes {span} habitants" + (" (métropole)" if self.scope == "metropole" else "")


def size_group(inhabitants: float, scope: str = "entiere") -> SizeGroup:
    for low, high in SIZE_CLASSES:
        if inhabitants >= low and (high is None or inhabitants < high):
            return SizeGroup(low, high, scope)
    raise ValueError(inhabitants)


def parse_territory(value: str) -> str:
    """``04112`` → ``COM:04112``, ``4``/``04`` → ``DEP:04``, ``REG:93``/``FRA`` kept; NotFound otherwise."""
    raw = value.strip().upper()
    if raw in ("FRA", "FRANCE"):
        return geo_codes.FRANCE
    kind, sep, local = raw.partition(":")
    if sep:
        if kind == "COM" and geo_codes.is_commune_code(local):
            return raw
        if kind == "DEP" and geo_codes.normalise_departement(local):
            return geo_codes.departement_code(geo_codes.normalise_departement(local) or local)
        if kind == "REG" and local.zfill(2) in geo_codes.REGIONS:
            return geo_codes.region_code(local.zfill(2))
    elif geo_codes.is_commune_code(raw):
        return geo_codes.commune_code(raw)
    elif geo_codes.normalise_departement(raw):
        return geo_codes.departement_code(geo_codes.normalise_departement(raw) or raw)
    raise NotFound(
        f"Territoire invalide : « {value} ». Attendu un code commune (04112 ou COM:04112), "
        "département (DEP:04), région (REG:93) ou FRA."
    )


def departements_of(scope_code: str, france: str = "entiere") -> list[str]:
    """Département codes making up a région or France (entière or métropole)."""
    if scope_code == geo_codes.FRANCE:
        return [
            geo_codes.departement_code(d)
            for d in geo_codes.DEPARTEMENTS
            if france == "entiere" or d not in geo_codes.OVERSEAS_DEPARTEMENTS
        ]
    reg = scope_code.partition(":")[2]
    return [geo_codes.departement_code(d) for d, (_, r) in geo_codes.DEPARTEMENTS.items() if r == reg]


def _den_columns(indicator: Indicator) -> tuple[str, str]:
    if indicator.denominator == indicators.DWELLINGS:
        return "d.dwellings", "d.dwellings_vintage"
    return "d.inhabitants", "d.inhabitants_vintage"


def editions(engine: Engine) -> pd.DataFrame:
    """Editions loaded, newest first, with how many values each holds."""
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                """
            SELECT e.code, e.label, e.produced_on, count(s.id) AS values,
                   min(s.year) AS first_year, max(s.year) AS last_year
            FROM obs.pn_edition e LEFT JOIN obs.pn_stat s ON s.edition = e.code
            GROUP BY e.code ORDER BY """
                + EDITION_ORDER
            ),
            conn,
        )


def pick_edition(conn: Connection, indicator: Indicator, territory: str, edition: str | None) -> str:
    """The edition asked for, else the newest holding this indicator for the territory."""
    if edition:
        if (
            conn.execute(sa.text("SELECT 1 FROM obs.pn_edition WHERE code = :e"), {"e": edition}).first()
            is None
        ):
            known = conn.execute(
                sa.text("SELECT string_agg(code, ', ' ORDER BY code) FROM obs.pn_edition")
            ).scalar()
            raise NotFound(f"Édition inconnue : « {edition} ». Éditions chargées : {known or 'aucune'}.")
        return edition
    anchors = [territory]
    if territory.startswith("COM:"):
        anchors.append(geo_codes.departement_code(geo_codes.departement_of_commune(territory[4:])))
    for anchor in anchors:
        found = conn.execute(
            sa.text(
                """
            SELECT e.code FROM obs.pn_edition e WHERE EXISTS (SELECT 1 FROM obs.pn_stat s WHERE s.edition = e.code
                AND s.indicator_id = :i AND s.territory_code = :t)
            ORDER BY """
                + EDITION_ORDER
                + " LIMIT 1"
            ),
            {"i": indicator.id, "t": anchor},
        ).scalar()
        if found:
            return found
    raise NotFound(
        f"Aucune édition chargée ne contient « {indicator.label} » pour {territory} : "
        "importez une base SSMSI (observatoire import ssmsi FICHIER)."
    )


def _vintage(low: Any, high: Any) -> str | None:
    if low is None:
        return None
    return str(low) if low == high else f"{low}–{high}"


def _number(x: Any) -> Any:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    x = float(x)
    return int(x) if x.is_integer() else x


def _finish(row: dict[str, Any], level_ci: float) -> dict[str, Any]:
    """Rate and interval from count and denominator; a published rate only when no count exists."""
    count, den = row["count"], row["denominator"]
    row["rate_source"] = None
    if count is not None and den:
        row["rate_per_1000"] = count / den * 1000
        low, high = poisson_interval(count, level_ci)
        row["ci_low"], row["ci_high"] = low / den * 1000, high / den * 1000  # type: ignore[operator]
        row["rate_source"] = "calculé"
    else:
        row["rate_per_1000"] = row.pop("_published_rate", None)
        row["ci_low"] = row["ci_high"] = None
        if row["rate_per_1000"] is not None:
            row["rate_source"] = "publié (sans nombre ni dénominateur)"
    row.pop("_published_rate", None)
    return row


def _direct(
    conn: Connection, edition: str, ind: Indicator, code: str, years: Sequence[int]
) -> dict[int, dict]:
    den, vint = _den_columns(ind)
    rows = conn.execute(
        sa.text(f"""
        SELECT s.year, s.count, s.published, s.published_rate, {den} AS den, {vint} AS vint
        FROM obs.pn_stat s LEFT JOIN obs.pn_denominator d
             ON d.edition = s.edition AND d.territory_code = s.territory_code AND d.year = s.year
        WHERE s.edition = :e AND s.indicator_id = :i AND s.territory_code = :t AND s.year = ANY(:y)"""),
        {"e": edition, "i": ind.id, "t": code, "y": list(years)},
    ).mappings()
    return {
        r["year"]: {
            "count": r["count"],
            "denominator": _number(r["den"]),
            "denominator_vintage": _vintage(r["vint"], r["vint"]),
            "published": r["published"],
            "_published_rate": r["published_rate"],
            "coverage": "valeur publiée" if r["published"] else "non diffusée par le SSMSI",
        }
        for r in rows
    }


def _sum_of_parts(
    conn: Connection, edition: str, ind: Indicator, parts: list[str], years: Sequence[int], what: str
) -> dict[int, dict]:
    den, vint = _den_columns(ind)
    rows = conn.execute(
        sa.text(f"""
        SELECT s.year, count(*) AS present, count(s.count) FILTER (WHERE s.published) AS published_n,
               sum(s.count) AS total, count({den}) AS den_n, sum({den}) AS den, min({vint}) AS v0, max({vint}) AS v1
        FROM obs.pn_stat s LEFT JOIN obs.pn_denominator d
             ON d.edition = s.edition AND d.territory_code = s.territory_code AND d.year = s.year
        WHERE s.edition = :e AND s.indicator_id = :i AND s.territory_code = ANY(:t) AND s.year = ANY(:y)
        GROUP BY s.year"""),
        {"e": edition, "i": ind.id, "t": parts, "y": list(years)},
    ).mappings()
    out = {}
    for r in rows:
        complete = r["published_n"] == len(parts)
        out[r["year"]] = {
            "count": int(r["total"]) if complete else None,
            "denominator": _number(r["den"]) if r["den_n"] == len(parts) else None,
            "denominator_vintage": _vintage(r["v0"], r["v1"]),
            "published": complete,
            "coverage": f"somme de {r['published_n']}/{len(parts)} {what} publiés",
            "members": len(parts),
            "members_published": r["published_n"],
        }
    return out


def _group(
    conn: Connection, edition: str, ind: Indicator, group: SizeGroup, years: Sequence[int]
) -> dict[int, dict]:
    den, vint = _den_columns(ind)
    metro = "AND left(s.territory_code, 6) <> 'COM:97'" if group.scope == "metropole" else ""
    rows = conn.execute(
        sa.text(f"""
        SELECT s.year, count(*) AS members, count(*) FILTER (WHERE s.published AND s.count IS NOT NULL) AS published_n,
               sum(s.count) FILTER (WHERE s.published AND {den} IS NOT NULL) AS total,
               sum({den}) FILTER (WHERE s.published AND s.count IS NOT NULL) AS den,
               min({vint}) AS v0, max({vint}) AS v1
        FROM obs.pn_stat s JOIN obs.pn_denominator d
             ON d.edition = s.edition AND d.territory_code = s.territory_code AND d.year = s.year
        WHERE s.edition = :e AND s.indicator_id = :i AND left(s.territory_code, 4) = 'COM:' {metro}
          AND d.inhabitants >= :lo AND (CAST(:hi AS float8) IS NULL OR d.inhabitants < :hi) AND s.year = ANY(:y)
        GROUP BY s.year"""),
        {"e": edition, "i": ind.id, "lo": group.low, "hi": group.high, "y": list(years)},
    ).mappings()
    return {
        r["year"]: {
            "count": int(r["total"]) if r["total"] is not None else None,
            "denominator": _number(r["den"]),
            "denominator_vintage": _vintage(r["v0"], r["v1"]),
            "published": r["published_n"] > 0,
            "coverage": f"{r['members']} communes dans la base de l'édition, {r['published_n']} publiées "
            "(taux calculé sur les communes publiées)",
            "members": r["members"],
            "members_published": r["published_n"],
        }
        for r in rows
    }


def _names(conn: Connection, codes: Iterable[str]) -> dict[str, str]:
    rows = conn.execute(
        sa.text("SELECT code, name FROM obs.territory WHERE code = ANY(:c)"), {"c": list(codes)}
    )
    return dict(rows.all())


def _chain(territory: str) -> dict[str, str]:
    """Level → territory code of the comparison chain of ``territory``."""
    chain: dict[str, str] = {}
    dep = reg = None
    if territory.startswith("COM:"):
        chain["commune"] = territory
        dep = geo_codes.departement_of_commune(territory[4:])
    elif territory.startswith("DEP:"):
        dep = territory[4:]
    elif territory.startswith("REG:"):
        reg = territory[4:]
    if dep:
        chain["departement"] = geo_codes.departement_code(dep)
        reg = geo_codes.DEPARTEMENTS[dep][1]
    if reg:
        chain["region"] = geo_codes.region_code(reg)
    chain["france"] = geo_codes.FRANCE
    return chain


def compare_records(
    engine: Engine,
    indicator: str,
    territory: str,
    years: Sequence[int],
    *,
    levels: Sequence[str] = LEVELS,
    edition: str | None = None,
    france: str = "entiere",
    group: SizeGroup | None = None,
    level_ci: float = 0.95,
) -> list[dict[str, Any]]:
    """Rows of the comparison of ``territory`` with its département, région, size group and France."""
    ind = indicators.resolve(indicator)
    territory = parse_territory(territory)
    if france not in FRANCE_SCOPES:
        raise NotFound(f"Périmètre « {france} » inconnu : entiere ou metropole.")
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown:
        raise NotFound(
            f"Niveau(x) inconnu(s) : {', '.join(unknown)}. Niveaux possibles : {', '.join(LEVELS)}."
        )
    years = sorted(set(years))
    chain = _chain(territory)
    records: list[dict[str, Any]] = []
    with engine.connect() as conn:
        ed = pick_edition(conn, ind, territory, edition)
        names = _names(conn, chain.values())
        for level in LEVELS:
            if level not in levels:
                continue
            values: dict[int, dict]
            note = None
            if level == "groupe":
                if "commune" not in chain:
                    continue
                grp = group or _default_group(conn, ed, chain["commune"], years, france)
                if grp is None:
                    continue
                code, name = grp.code, grp.name
                values = _group(conn, ed, ind, grp, years)
            elif level not in chain:
                continue
            else:
                code = chain[level]
                name = (
                    "France entière"
                    if level == "france" and france == "entiere"
                    else ("France métropolitaine" if level == "france" else names.get(code, code))
                )
                values = (
                    _direct(conn, ed, ind, code, years)
                    if not (level == "france" and france == "metropole")
                    else {}
                )
                if not values and level in ("region", "france"):
                    parts = departements_of(code, france)
                    values = _sum_of_parts(conn, ed, ind, parts, years, "départements")
                    note = "reconstitué : somme des départements (nombres et dénominateurs)"
            for year in years:
                row = {
                    "territory": code,
                    "territory_name": name,
                    "level": level,
                    "indicator": ind.id,
                    "indicator_label": ind.label,
                    "year": year,
                    "count": None,
                    "denominator": None,
                    "denominator_kind": ind.denominator,
                    "denominator_vintage": None,
                    "published": False,
                    "edition": ed,
                    "coverage": "absent de l'édition",
                    "members": None,
                    "members_published": None,
                    "note": note,
                }
                row.update(values.get(year, {}))
                records.append(_finish(row, level_ci))
    return records


def _default_group(
    conn: Connection, edition: str, commune: str, years: Sequence[int], scope: str
) -> SizeGroup | None:
    """The size class of the commune, from its latest population in this edition."""
    pop = conn.execute(
        sa.text("""
        SELECT inhabitants FROM obs.pn_denominator WHERE edition = :e AND territory_code = :c
          AND inhabitants IS NOT NULL ORDER BY (year = ANY(:y)) DESC, year DESC LIMIT 1"""),
        {"e": edition, "c": commune, "y": list(years)},
    ).scalar()
    return size_group(pop, scope) if pop is not None else None


def compare(
    engine: Engine, indicator: str, territory: str, years: Sequence[int], **kwargs: Any
) -> pd.DataFrame:
    """:func:`compare_records` as a DataFrame (missing values as NaN/None, never 0)."""
    records = compare_records(engine, indicator, territory, years, **kwargs)
    frame = pd.DataFrame.from_records(records, columns=[*RECORD_KEYS, *EXTRA_KEYS])
    frame["count"] = frame["count"].astype("Int64")
    return frame


def level_values(engine: Engine, edition: str, level: str = "departement") -> pd.DataFrame:
    """Every value of an edition at one level, with the engine's rate next to the published one."""
    prefix = {"commune": "COM:", "departement": "DEP:", "region": "REG:"}[level]
    with engine.connect() as conn:
        frame = pd.read_sql(
            sa.text("""
            SELECT s.territory_code, s.indicator_id, s.year, s.count, s.published, s.published_rate,
                   CASE WHEN i.denominator = 'logements' THEN d.dwellings ELSE d.inhabitants END AS denominator
            FROM obs.pn_stat s JOIN obs.pn_indicator i ON i.id = s.indicator_id
            LEFT JOIN obs.pn_denominator d
                 ON d.edition = s.edition AND d.territory_code = s.territory_code AND d.year = s.year
            WHERE s.edition = :e AND left(s.territory_code, 4) = :p"""),
            conn,
            params={"e": edition, "p": prefix},
        )
    frame["rate_per_1000"] = frame["count"] / frame["denominator"] * 1000
    return frame
