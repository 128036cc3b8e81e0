"""Page-ready views of the rate engine: the diagnostic table, the chart series, the methodology block.

Each function takes the records or frame of :func:`observatoire.police_nationale.rates.compare` and returns a DataFrame
or a dict that a Dash page, a CLI or an export can show as is (French labels, French number format).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import french
from observatoire.errors import NotFound
from observatoire.police_nationale import indicators, rates

LEVEL_LABELS = {
    "commune": "Commune",
    "departement": "Département",
    "region": "Région",
    "groupe": "Communes de même taille",
    "france": "France",
}
NOT_AVAILABLE = french.UNKNOWN
SOURCE_LINE = (
    "Source : SSMSI, bases statistiques communale, départementale et régionale de la délinquance "
    "enregistrée par la police et la gendarmerie nationales (data.gouv.fr, Licence Ouverte)"
)
UNPUBLISHED_WHY = (
    "Le SSMSI ne diffuse pas les petits nombres communaux (secret statistique) : ces valeurs "
    "restent inconnues, elles ne valent pas zéro."
)


def _text(value: Any) -> str | None:
    """A text cell of a frame or record; None when it is empty or unknown (None, NaN, pd.NA)."""
    return value if isinstance(value, str) and value else None


def available_indicators(engine: Engine, territory: str, edition: str | None = None) -> tuple[str, list[str]]:
    """(edition, indicator ids) an edition holds for the territory's chain, newest edition by default."""
    chain = list(rates._chain(territory).values())
    with engine.connect() as conn:
        if edition is None:
            edition = conn.execute(
                sa.text(
                    """
                SELECT s.edition FROM obs.pn_stat s JOIN obs.pn_edition e ON e.code = s.edition
                WHERE s.territory_code = ANY(:t) ORDER BY """
                    + rates.EDITION_ORDER
                    + " LIMIT 1"
                ),
                {"t": chain},
            ).scalar()
            if edition is None:
                raise NotFound(f"Aucune donnée SSMSI chargée pour {territory}.")
        ids = set(
            conn.execute(
                sa.text("SELECT DISTINCT indicator_id FROM obs.pn_stat WHERE edition = :e"), {"e": edition}
            ).scalars()
        )
    return edition, [i.id for i in indicators.INDICATORS if i.id in ids]


def present_indicators(engine: Engine) -> list[str]:
    """Ids of the indicators some loaded edition holds, in the catalogue's order."""
    with engine.connect() as conn:
        ids = set(
            conn.execute(
                sa.text(
                    "SELECT i.id FROM obs.pn_indicator i WHERE EXISTS (SELECT 1 FROM obs.pn_edition e "
                    "JOIN obs.pn_stat s ON s.edition = e.code AND s.indicator_id = i.id)"
                )
            ).scalars()
        )
    return [i.id for i in indicators.INDICATORS if i.id in ids]


def diagnostic_table(
    records: Sequence[dict[str, Any]] | pd.DataFrame, formatted: bool = True
) -> pd.DataFrame:
    """One indicator: rows Commune / Département / Région / size group / France, columns the years."""
    frame = pd.DataFrame(records)
    if frame.empty:
        return frame
    frame["ligne"] = [
        f"{LEVEL_LABELS[lv]} — {name}" for lv, name in zip(frame.level, frame.territory_name, strict=True)
    ]
    if frame.indicator.nunique() > 1:
        raise ValueError("diagnostic_table : un seul indicateur par tableau")
    order = {lv: i for i, lv in enumerate(rates.LEVELS)}
    lines = frame.sort_values("level", key=lambda s: s.map(order)).ligne.unique()
    table = frame.pivot(index="ligne", columns="year", values="rate_per_1000").reindex(index=lines)
    table = table.reindex(columns=sorted(frame.year.unique()))
    table.index.name = None
    table.columns = [str(c) for c in table.columns]
    if formatted:
        table = table.map(lambda v: french.number(v, 2))
    return table


def rate_series(records: Sequence[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Long frame for a line chart: one line per territory, unknown rates left out (not drawn as 0)."""
    frame = pd.DataFrame(records)
    if frame.empty:
        return frame
    frame["serie"] = [
        f"{LEVEL_LABELS[lv]} — {name}" for lv, name in zip(frame.level, frame.territory_name, strict=True)
    ]
    cols = [
        "serie",
        "level",
        "territory",
        "indicator",
        "indicator_label",
        "year",
        "rate_per_1000",
        "ci_low",
        "ci_high",
        "edition",
    ]
    return frame.loc[frame.rate_per_1000.notna(), cols].reset_index(drop=True)


def methodology(engine: Engine, records: Sequence[dict[str, Any]] | pd.DataFrame) -> dict[str, Any]:
    """What a reader needs to trust the table: source, edition, denominators, coverage, what is missing."""
    frame = pd.DataFrame(records)
    if frame.empty:
        return {
            "source": SOURCE_LINE,
            "editions": [],
            "indicateurs": [],
            "denominateurs": [],
            "couverture": [],
            "non_publie": [],
            "explication_non_publie": UNPUBLISHED_WHY,
        }
    codes = sorted(frame.edition.unique())
    with engine.connect() as conn:
        eds = (
            conn.execute(
                sa.text("SELECT code, label, produced_on FROM obs.pn_edition WHERE code = ANY(:c)"),
                {"c": codes},
            )
            .mappings()
            .all()
        )
    denominators = []
    for (level, name, ind), part in frame.groupby(
        ["level", "territory_name", "indicator"], sort=False, dropna=False
    ):
        vintages = sorted({v for v in map(_text, part.denominator_vintage) if v})
        denominators.append(
            {
                "niveau": LEVEL_LABELS[level],
                "territoire": name,
                "indicateur": ind,
                "denominateur": _text(part.denominator_kind.iloc[0]) or indicators.BY_ID[ind].denominator,
                "millesimes": ", ".join(vintages) or "inconnu",
            }
        )
    coverage = [
        {
            "niveau": LEVEL_LABELS[r.level],
            "territoire": r.territory_name,
            "annee": int(r.year),
            "couverture": _text(r.coverage),
            "note": _text(r.note),
        }
        for r in frame.itertuples()
        if r.level in ("region", "groupe", "france") or _text(r.note)
    ]
    unpublished = [
        {
            "territoire": r.territory_name,
            "indicateur": r.indicator_label,
            "annee": int(r.year),
            "raison": _text(r.coverage),
        }
        for r in frame.itertuples()
        if french.is_unknown(r.rate_per_1000)
    ]
    used = [indicators.BY_ID[i] for i in dict.fromkeys(frame.indicator)]
    return {
        "source": SOURCE_LINE,
        "editions": [
            {
                "code": e["code"],
                "libelle": e["label"],
                "date": e["produced_on"].strftime("%d/%m/%Y") if e["produced_on"] else None,
            }
            for e in eds
        ],
        "indicateurs": [
            {
                "id": i.id,
                "libelle": i.label,
                "unite": i.unit,
                "denominateur": i.denominator,
                "sensible": i.sensitive,
            }
            for i in used
        ],
        "denominateurs": denominators,
        "couverture": coverage,
        "non_publie": unpublished,
        "explication_non_publie": UNPUBLISHED_WHY,
        "methode": (
            "Taux = nombre ÷ dénominateur × 1 000 (logements pour les cambriolages de logement, habitants "
            "sinon), avec les populations et logements de l'édition. Région et France, quand l'édition ne "
            "les donne pas, sont reconstituées en additionnant nombres et dénominateurs des départements "
            "(jamais en moyennant des taux). Intervalle de confiance à 95 % : loi de Poisson exacte sur le "
            "nombre de faits. Chaque valeur vient de l'édition la plus récente qui la publie (un taux avant "
            "un nombre seul), sauf édition imposée, et porte le renvoi de son édition ; une ligne est coupée "
            "là où la définition de l'indicateur change entre deux éditions (rupture de série). Les valeurs "
            "non diffusées (secret statistique) ne comptent jamais comme 0 : un groupe de communes dit "
            "combien des siennes le sont, et son taux n'est calculé que si la moitié au moins est publiée."
        ),
    }


def text_table(records: Sequence[dict[str, Any]]) -> str:
    """Plain-text table for the terminal."""
    lines = []
    current = None
    for r in records:
        head = r["indicator_label"]
        if head != current:
            current = head
            lines.append(f"\n{r['indicator_label']} — taux pour 1 000 {r['denominator_kind']}")
            lines.append(
                f"{'Territoire':<62} {'Année':>5} {'Nombre':>9} {'Dénominateur':>14} {'Taux':>8} "
                f"{'IC 95 %':>17}  Millésime  Édition"
            )
        ci = (
            ""
            if french.is_unknown(r["ci_low"])
            else f"{french.number(r['ci_low'], 2)}–{french.number(r['ci_high'], 2)}"
        )
        count = french.number(r["count"])
        lines.append(
            f"{(LEVEL_LABELS[r['level']] + ' — ' + r['territory_name'])[:62]:<62} {r['year']:>5} "
            f"{count:>9} {french.number(r['denominator']):>14} {french.number(r['rate_per_1000'], 2):>8} "
            f"{ci:>17}  {(_text(r['denominator_vintage']) or ''):<9}  {r['edition']}"
            + (" †" if r.get("break_before") else "")
        )
    lines.append("\n" + SOURCE_LINE)
    return "\n".join(lines).lstrip("\n")
