"""The yearly tracker as presented to the plenary assembly: one row per indicator of every fiche, the year's
value beside the previous one, its progress, source and validation, and the observed trend of the series the
indicator is tied to. :func:`plenary_table` gives the table (the exports machinery renders it as PDF),
:func:`plenary_xlsx` and :func:`plenary_html` the workbook and the printable page."""

from __future__ import annotations

import html

import pandas as pd
from sqlalchemy.engine import Engine

from observatoire import french, tables
from observatoire.strategy import entries, links, plan


def observed_trend(engine: Engine, keys: list[str], year: int, commune: str) -> str:
    parts = []
    for key in keys:
        frame = links.yearly(engine, key, commune)
        by_year = dict(zip(frame["year"], frame["count"], strict=True))
        now, before = by_year.get(year), by_year.get(year - 1)
        label = links.SERIES[key].label
        if now is None:
            last = max(by_year) if by_year else None
            parts.append(
                f"{label} : {year} non disponible"
                + (f" (dernier : {french.number(by_year[last])} en {last})" if last else "")
            )
        elif before:
            parts.append(
                f"{label} : {french.number(now)} ({french.signed(100 * (now - before) / before, 0)} % sur {year - 1})"
            )
        else:
            parts.append(f"{label} : {french.number(now)}")
    return " ; ".join(parts)


def plenary_table(engine: Engine, year: int, *, commune: str, code: str | None = None) -> pd.DataFrame:
    indicators = plan.indicators(engine, code)
    values = entries.values(engine, code)
    by_key = {(r.fiche, r.position, r.year): r for r in values.itertuples()}
    rows = []
    for ind in indicators.itertuples():
        now, before = (
            by_key.get((ind.fiche, ind.position, year)),
            by_key.get((ind.fiche, ind.position, year - 1)),
        )
        rows.append(
            {
                "Axe": plan.axis_label(int(ind.axis)),
                "Fiche": ind.fiche,
                "Action": ind.title,
                "Indicateur": ind.label,
                f"Valeur {year - 1}": before.valeur if before else "—",
                f"Valeur {year}": now.valeur if now else "non renseignée",
                "Avancement": plan.PROGRESS_LABELS[now.progress] if now else "—",
                "Source": (now.source or "") if now else "",
                "Validation": plan.STATE_LABELS[now.state] if now else "—",
                "Tendance observée": observed_trend(engine, list(ind.series), year, commune)
                if len(ind.series)
                else "",
            }
        )
    return pd.DataFrame(rows)


def title(year: int) -> str:
    return f"Tableau de bord de suivi et d'évaluation de la stratégie – année {year}"


def plenary_xlsx(engine: Engine, year: int, *, commune: str, code: str | None = None) -> bytes:
    frame = plenary_table(engine, year, commune=commune, code=code)
    return tables.to_xlsx_bytes(
        frame,
        f"Suivi {year}",
        title=title(year),
        source="Source : coordination du CLSPDR, valeurs saisies et validées par les membres statutaires ; "
        "tendances observées : observatoire.",
    )


def plenary_html(engine: Engine, year: int, *, commune: str, code: str | None = None) -> str:
    """A standalone page to print (A4 landscape), every text escaped."""
    frame = plenary_table(engine, year, commune=commune, code=code)
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in frame.columns)
    body = []
    last_axis = None
    for row in frame.itertuples(index=False, name=None):
        if row[0] != last_axis:
            body.append(f'<tr class="axe"><th colspan="{len(frame.columns)}">{html.escape(row[0])}</th></tr>')
            last_axis = row[0]
        body.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>")
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{html.escape(title(year))}</title><style>"
        "@page{size:A4 landscape;margin:12mm}body{font-family:sans-serif;font-size:9pt}"
        "table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:3px;vertical-align:top}"
        "tr.axe th{background:#e8eef4;text-align:left}thead{display:table-header-group}</style></head><body>"
        f"<h1>{html.escape(title(year))}</h1><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
        "</table></body></html>"
    )


def plenary_pdf(engine: Engine, year: int, *, commune: str, code: str | None = None) -> bytes:
    """The printable page as a PDF (A4 landscape), by the HTML-to-PDF engine of the diagnostic report."""
    from observatoire.exports.report.document import to_pdf

    return to_pdf(plenary_html(engine, year, commune=commune, code=code))
