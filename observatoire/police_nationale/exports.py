"""What the Comparaisons page and the CLI hand out: each cell's edition as a footnote mark, the tables for
CSV/XLSX with French headers and values rounded as displayed, and the sheet « Sources et méthode »."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import french
from observatoire.police_nationale import comparisons, indicators, rates, significance

SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹"
BREAK_MARK = "†"
RATE_DECIMALS = 2


def edition_marks(engine: Engine, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Edition code → its mark, label, date and file, newest first, for the editions the records use."""
    used = set(r["edition"] for r in records)
    eds = rates.editions(engine)
    with engine.connect() as conn:
        files: dict[str, str | None] = dict(
            conn.execute(
                sa.text(
                    "SELECT e.code, b.file_name FROM obs.pn_edition e "
                    "LEFT JOIN obs.import_batch b ON b.id = e.batch_id"
                )
            ).all()
        )
    out: dict[str, dict[str, Any]] = {}
    for row in eds.itertuples():
        if row.code not in used:
            continue
        n = len(out)
        out[row.code] = {
            "mark": SUPERSCRIPTS[n] if n < len(SUPERSCRIPTS) else f"[{n + 1}]",
            "label": row.label or row.code,
            "date": row.produced_on.strftime("%d/%m/%Y") if pd.notna(row.produced_on) else None,
            "file": files.get(row.code),
        }
    return out


def cell_text(record: dict[str, Any], marks: dict[str, dict[str, Any]]) -> str:
    """A table cell: the rate as displayed, its edition's mark, the break mark when a new definition starts."""
    value = french.number(record["rate_per_1000"], RATE_DECIMALS)
    if french.is_unknown(record["rate_per_1000"]):
        return value
    mark = marks.get(record["edition"], {}).get("mark", "")
    return f"{value} {mark}" + (BREAK_MARK if record.get("break_before") else "")


def marked_table(records: Sequence[dict[str, Any]], marks: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """:func:`comparisons.diagnostic_table` with each rate followed by its edition's mark."""
    frame = pd.DataFrame(records)
    if frame.empty:
        return frame
    frame["ligne"] = [
        f"{comparisons.LEVEL_LABELS[lv]} — {name}"
        for lv, name in zip(frame.level, frame.territory_name, strict=True)
    ]
    frame["texte"] = [cell_text(r, marks) for r in records]
    order = {lv: i for i, lv in enumerate(rates.LEVELS)}
    lines = frame.sort_values("level", key=lambda s: s.map(order)).ligne.unique()
    table = frame.pivot(index="ligne", columns="year", values="texte").reindex(index=lines)
    table = table.reindex(columns=sorted(frame.year.unique()))
    table.index.name = None
    table.columns = [str(c) for c in table.columns]
    return table


def footnotes(records: Sequence[dict[str, Any]], marks: dict[str, dict[str, Any]]) -> list[str]:
    notes = [
        f"{m['mark']} {m['label']}" + (f" (produite le {m['date']})" if m["date"] else "")
        for m in marks.values()
        if any(r["edition"] in marks and marks[r["edition"]] is m for r in records)
    ]
    breaks = dict.fromkeys(r["break_before"] for r in records if r.get("break_before"))
    notes += [f"{BREAK_MARK} {b}" for b in breaks]
    return notes


def _rounded(value: Any, decimals: int) -> Any:
    return None if french.is_unknown(value) else round(float(value), decimals)


def export_frame(records: Sequence[dict[str, Any]], marks: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per cell, French headers, values rounded as displayed, n.d. left empty with its reason."""
    rows = []
    for r in records:
        missing = french.is_unknown(r["rate_per_1000"])
        ed = marks.get(r["edition"], {})
        rows.append(
            {
                "Indicateur": r["indicator_label"],
                "Niveau": comparisons.LEVEL_LABELS[r["level"]],
                "Territoire": r["territory_name"],
                "Code": r["territory"],
                "Année": r["year"],
                "Nombre": None if french.is_unknown(r["count"]) else int(r["count"]),
                "Dénominateur": _rounded(r["denominator"], 0),
                "Pour 1 000": r["denominator_kind"],
                "Millésime du dénominateur": r["denominator_vintage"],
                "Taux pour 1 000": _rounded(r["rate_per_1000"], RATE_DECIMALS),
                "IC 95 % bas": _rounded(r["ci_low"], RATE_DECIMALS),
                "IC 95 % haut": _rounded(r["ci_high"], RATE_DECIMALS),
                "Origine du taux": r.get("rate_source"),
                "Raison si non disponible": (r.get("coverage") or "non disponible") if missing else None,
                "Renvoi": ed.get("mark"),
                "Édition": ed.get("label", r["edition"]),
                "Couverture": r.get("coverage"),
                "Membres": r.get("members"),
                "dont publiés": r.get("members_published"),
                "dont non diffusés": r.get("members_withheld"),
                "Rupture de série": r.get("break_before"),
            }
        )
    return pd.DataFrame(rows)


def tests_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The significance tests of the records, as rows for the methodology and the exports."""
    rows = []
    for t in significance.year_changes(records):
        rows.append(
            {
                "Test": "évolution",
                "Indicateur": t["indicateur"],
                "Territoire": t["territoire"],
                "Comparaison": f"{t['de']} → {t['a']}",
                "Conclusion": t["conclusion"],
                "p": significance.p_text(t["p_value"]),
            }
        )
    for t in significance.commune_gaps(records):
        rows.append(
            {
                "Test": "écart",
                "Indicateur": t["indicateur"],
                "Territoire": t["territoire"],
                "Comparaison": f"commune / territoire, {t['annee']}",
                "Conclusion": t["conclusion"],
                "p": significance.p_text(t["p_value"]),
            }
        )
    return pd.DataFrame(rows, columns=["Test", "Indicateur", "Territoire", "Comparaison", "Conclusion", "p"])


TEST_METHOD = (
    "Évolutions et écarts : test exact conditionnel de deux comptages de Poisson rapportés à leurs "
    "dénominateurs (Przyborowski et Wilenski : le premier nombre, sachant la somme des deux, suit une loi "
    "binomiale), bilatéral, seuil 5 % ; « hausse significative », « baisse significative » ou « pas "
    "d'évolution significative ». Écart commune / territoire : la commune est retirée du territoire qui la "
    "contient quand les deux valeurs viennent de la même édition. Pas de test à travers une rupture de série."
)


def sources_frame(
    engine: Engine, records: Sequence[dict[str, Any]], marks: dict[str, dict[str, Any]]
) -> pd.DataFrame:
    """The sheet « Sources et méthode »: files, editions, vintages, secrecy, breaks, tests."""
    meta = comparisons.methodology(engine, records)
    rows: list[tuple[str, str]] = [("Source", comparisons.SOURCE_LINE)]
    for code, m in marks.items():
        rows.append(
            (
                f"Édition {m['mark']}",
                f"{m['label']}"
                + (f", produite le {m['date']}" if m["date"] else "")
                + f" — code {code}"
                + (f" — fichier importé : {m['file']}" if m["file"] else ""),
            )
        )
    for d in meta["denominateurs"]:
        rows.append(
            (
                "Dénominateur",
                f"{d['niveau']} — {d['territoire']} ({d['indicateur']}) : pour 1 000 {d['denominateur']}, "
                f"millésime {d['millesimes']}",
            )
        )
    rows.append(("Méthode", meta.get("methode", "")))
    rows.append(("Choix de l'édition", CHOICE_TEXT))
    rows.append(("Secret statistique", meta["explication_non_publie"]))
    for ind in dict.fromkeys(r["indicator"] for r in records):
        for nomenclature, text in indicators.BY_ID[ind].definitions:
            rows.append((f"Définition ({indicators.BY_ID[ind].label}, {nomenclature})", text))
    for b in dict.fromkeys(r["break_before"] for r in records if r.get("break_before")):
        rows.append(("Rupture de série", b))
    rows.append(("Tests", TEST_METHOD))
    for t in tests_frame(records).itertuples(index=False):
        rows.append(
            (f"Test ({t.Test})", f"{t.Indicateur} — {t.Territoire}, {t.Comparaison} : {t.Conclusion} ({t.p})")
        )
    return pd.DataFrame(rows, columns=["Rubrique", "Contenu"])


CHOICE_TEXT = (
    "Pour chaque indicateur, territoire et année, l'édition la plus récente qui publie la valeur (un taux, "
    "calculé à partir du nombre et du dénominateur ou publié, avant un nombre seul), sauf édition imposée ; "
    "chaque valeur porte le renvoi de son édition."
)
