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

from observatoire import french, geo_codes
from observatoire.errors import NotFound
from observatoire.geo_codes import TerritoryCode
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
EXTRA_KEYS = (
    "coverage",
    "members",
    "members_published",
    "members_withheld",
    "rate_source",
    "note",
    "break_before",
)
# What the CLI's JSON carries per cell, besides the record keys.
JSON_KEYS = (*RECORD_KEYS, "coverage", "members", "members_published", "members_withheld", "rate_source")
# A size group's rate is computed only when at least this share of its communes is published: the withheld
# ones are the small counts, so a rate of the few published communes would overstate the group's.
GROUP_MIN_PUBLISHED = 0.5
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
        return str(
            TerritoryCode(
                "GRP", f"communes-{self.low}-{top}" + ("-metropole" if self.scope == "metropole" else "")
            )
        )

    @property
    def name(self) -> str:
        low = french.number(self.low)
        span = f"de {low} à {french.number(self.high)}" if self.high else f"de {low} et plus"
        return f"Communes {span} habitants" + (" (métropole)" if self.scope == "metropole" else "")


def size_group(inhabitants: float, scope: str = "entiere") -> SizeGroup:
    for low, high in SIZE_CLASSES:
        if inhabitants >= low and (high is None or inhabitants < high):
            return SizeGroup(low, high, scope)
    raise ValueError(inhabitants)


# The levels the rate engine compares.
TERRITORY_LEVELS = ("COM", "DEP", "REG", "FRA")


def parse_territory(value: str) -> str:
    """``04112`` → ``COM:04112``, ``4``/``04`` → ``DEP:04``, ``REG:93``/``FRA`` kept; NotFound otherwise."""
    return str(TerritoryCode.parse(value, TERRITORY_LEVELS))


def departements_of(scope_code: str, france: str = "entiere") -> list[str]:
    """Département codes making up a région or France (entière or métropole)."""
    if scope_code == geo_codes.FRANCE:
        return [
            str(TerritoryCode("DEP", d))
            for d in geo_codes.DEPARTEMENTS
            if france == "entiere" or d not in geo_codes.OVERSEAS_DEPARTEMENTS
        ]
    reg = TerritoryCode.parse(scope_code).code
    return [str(TerritoryCode("DEP", d)) for d, (_, r) in geo_codes.DEPARTEMENTS.items() if r == reg]


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
    parsed = TerritoryCode.parse(territory)
    if parsed.level == "COM":
        anchors.append(str(parsed.departement))
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
        SELECT s.year, s.count, s.published, s.published_rate, s.withheld, {den} AS den, {vint} AS vint
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
            "coverage": "valeur publiée"
            if r["published"]
            else (r["withheld"] or "non diffusée par le SSMSI"),
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
               count(*) FILTER (WHERE s.withheld IS NOT NULL) AS withheld_n,
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
            "coverage": f"somme de {r['published_n']}/{len(parts)} {what} publiés"
            + (f", {r['withheld_n']} non diffusés (jamais comptés comme 0)" if r["withheld_n"] else ""),
            "members": len(parts),
            "members_published": r["published_n"],
            "members_withheld": r["withheld_n"],
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
               count(*) FILTER (WHERE s.withheld IS NOT NULL) AS withheld_n,
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
    out = {}
    for r in rows:
        enough = r["published_n"] > 0 and r["published_n"] >= GROUP_MIN_PUBLISHED * r["members"]
        coverage = f"{r['members']} communes de cette taille présentes dans l'édition {edition}, {r['published_n']} publiées"
        if r["withheld_n"]:
            coverage += f", {r['withheld_n']} non diffusées (secret statistique, jamais comptées comme 0)"
        coverage += (
            " ; taux calculé sur les communes publiées"
            if enough
            else " ; trop peu de communes publiées : taux non calculé"
        )
        out[r["year"]] = {
            "count": int(r["total"]) if enough and r["total"] is not None else None,
            "denominator": _number(r["den"]) if enough else None,
            "denominator_vintage": _vintage(r["v0"], r["v1"]),
            "published": enough,
            "coverage": coverage,
            "members": r["members"],
            "members_published": r["published_n"],
            "members_withheld": r["withheld_n"],
        }
    return out


def _names(conn: Connection, codes: Iterable[str]) -> dict[str, str]:
    rows = conn.execute(
        sa.text("SELECT code, name FROM obs.territory WHERE code = ANY(:c)"), {"c": list(codes)}
    )
    return dict(rows.all())


def _chain(territory: str) -> dict[str, str]:
    """Level → territory code of the comparison chain of ``territory``."""
    parsed = TerritoryCode.parse(territory)
    chain = {"commune": parsed.commune, "departement": parsed.departement, "region": parsed.region}
    return {level: str(code) for level, code in chain.items() if code} | {"france": geo_codes.FRANCE}


def indicator_editions(conn: Connection, indicator: Indicator) -> list[str]:
    """Editions holding the indicator, newest first."""
    return list(
        conn.execute(
            sa.text(
                "SELECT e.code FROM obs.pn_edition e WHERE EXISTS (SELECT 1 FROM obs.pn_stat s "
                "WHERE s.edition = e.code AND s.indicator_id = :i) ORDER BY " + EDITION_ORDER
            ),
            {"i": indicator.id},
        ).scalars()
    )


ABSENT = "absent de l'édition"


def _rank(row: dict[str, Any]) -> int:
    """2: a rate (computed from count and denominator, or published); 1: known but no rate (a bare count,
    a withheld value and its reason); 0: absent."""
    if row["rate_per_1000"] is not None:
        return 2
    return 1 if row["count"] is not None or row["coverage"] != ABSENT else 0


def _check_edition(conn: Connection, edition: str) -> None:
    if conn.execute(sa.text("SELECT 1 FROM obs.pn_edition WHERE code = :e"), {"e": edition}).first() is None:
        known = conn.execute(
            sa.text("SELECT string_agg(code, ', ' ORDER BY code) FROM obs.pn_edition")
        ).scalar()
        raise NotFound(f"Édition inconnue : « {edition} ». Éditions chargées : {known or 'aucune'}.")


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
    """Rows of the comparison of ``territory`` with its département, région, size group and France.

    Each cell (level × year) takes the most recent edition that gives a rate for it, else the most recent
    that knows something of it (a bare count, a withheld value); ``edition`` pins one edition for all."""
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
        if edition:
            _check_edition(conn, edition)
            eds = [edition]
        else:
            eds = indicator_editions(conn, ind)
            if not eds:
                raise NotFound(
                    f"Aucune édition chargée ne contient « {ind.label} » : "
                    "importez une base SSMSI (observatoire import ssmsi FICHIER)."
                )
        names = _names(conn, chain.values())
        breaks = series_breaks(conn, ind.id)
        for level in LEVELS:
            if level not in levels:
                continue
            grp = None
            if level == "groupe":
                if "commune" not in chain:
                    continue
                grp = group or _default_group(conn, eds, chain["commune"], years, france)
                if grp is None:
                    continue
                code, name = grp.code, f"{grp.name}, présentes dans l'édition chargée"
            elif level not in chain:
                continue
            else:
                code = chain[level]
                name = (
                    "France entière"
                    if level == "france" and france == "entiere"
                    else ("France métropolitaine" if level == "france" else names.get(code, code))
                )
            best: dict[int, dict[str, Any]] = {}
            for ed in eds:
                values, note = _level_values(conn, ed, ind, level, code, grp, years, france)
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
                        "coverage": ABSENT,
                        "members": None,
                        "members_published": None,
                        "members_withheld": None,
                        "note": note if year in values else None,
                    }
                    row.update(values.get(year, {}))
                    row = _finish(row, level_ci)
                    if row["rate_per_1000"] is None and level != "commune":
                        row["published"] = False  # an aggregate without a rate is never "publié"
                    if year not in best or _rank(row) > _rank(best[year]):
                        best[year] = row
            row_list = [best[y] for y in years]
            _mark_breaks(row_list, breaks)
            records += row_list
    return records


def series_breaks(conn: Connection, indicator_id: str) -> dict[frozenset[str], dict[str, Any]]:
    """Breaks recorded for an indicator, keyed by their two editions."""
    rows = conn.execute(
        sa.text(
            "SELECT edition_before, edition_after, first_year, last_year, min_change, max_change, tolerance "
            "FROM obs.pn_series_break WHERE indicator_id = :i"
        ),
        {"i": indicator_id},
    ).mappings()
    return {frozenset((r["edition_before"], r["edition_after"])): dict(r) for r in rows}


def break_text(brk: dict[str, Any]) -> str:
    low, high = (french.signed(brk[k] * 100, 0) for k in ("min_change", "max_change"))
    return (
        f"rupture de série entre les éditions {brk['edition_before']} et {brk['edition_after']} : "
        f"pour les mêmes années ({brk['first_year']}–{brk['last_year']}), {low} % à {high} % "
        f"(au-delà de la tolérance de {french.number(brk['tolerance'] * 100)} %) — la définition a changé"
    )


def _mark_breaks(rows: list[dict[str, Any]], breaks: dict[frozenset[str], dict[str, Any]]) -> None:
    """``break_before`` on a cell whose edition and the previous cell's do not count the same thing."""
    previous = None
    for row in rows:
        row["break_before"] = None
        # Editions that count this indicator differently from this cell's: never compared with it.
        row["definition_breaks"] = tuple(
            sorted(e for pair in breaks for e in pair if row["edition"] in pair and e != row["edition"])
        )
        if row["rate_per_1000"] is None and row["count"] is None:
            continue
        if previous is not None and previous["edition"] != row["edition"]:
            brk = breaks.get(frozenset((previous["edition"], row["edition"])))
            if brk:
                row["break_before"] = break_text(brk)
        previous = row


def _level_values(
    conn: Connection,
    ed: str,
    ind: Indicator,
    level: str,
    code: str,
    grp: SizeGroup | None,
    years: Sequence[int],
    france: str,
) -> tuple[dict[int, dict], str | None]:
    if grp is not None:
        return _group(conn, ed, ind, grp, years), None
    values = _direct(conn, ed, ind, code, years) if not (level == "france" and france == "metropole") else {}
    if level in ("region", "france") and not values:
        parts = departements_of(code, france)
        rebuilt = _sum_of_parts(conn, ed, ind, parts, years, "départements")
        return rebuilt, "reconstitué : somme des départements (nombres et dénominateurs)"
    return values, None


def _default_group(
    conn: Connection, eds: Sequence[str], commune: str, years: Sequence[int], scope: str
) -> SizeGroup | None:
    """The size class of the commune, from its latest population in the newest edition that has it."""
    for edition in eds:
        pop = conn.execute(
            sa.text("""
            SELECT inhabitants FROM obs.pn_denominator WHERE edition = :e AND territory_code = :c
              AND inhabitants IS NOT NULL ORDER BY (year = ANY(:y)) DESC, year DESC LIMIT 1"""),
            {"e": edition, "c": commune, "y": list(years)},
        ).scalar()
        if pop is not None:
            return size_group(pop, scope)
    return None


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
    prefix = geo_codes.PREFIXES[level] + ":"
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
