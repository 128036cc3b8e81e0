"""A report as data (sections of headings, paragraphs, tables and maps, each table and map with its source,
edition and method), and its HTML page; the PDF is the same page printed by WeasyPrint."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Table:
    title: str
    frame: pd.DataFrame
    source: str
    method: str = ""
    index: bool = False


@dataclass
class Figure:
    title: str
    png: bytes
    source: str
    method: str = ""


@dataclass
class Section:
    title: str
    intro: str = ""
    blocks: list[Table | Figure | str] = field(default_factory=list)


@dataclass
class Report:
    title: str
    subtitle: str
    audience_label: str
    audience_colour: str
    produced: str
    sections: list[Section]
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


CSS = """
@page { size: A4 portrait; margin: 16mm 14mm 18mm 14mm;
        @bottom-right { content: "page " counter(page) " / " counter(pages); font-size: 8pt; color: #555; }
        @bottom-left { content: string(level); font-size: 8pt; color: #555; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; color: #161616; line-height: 1.35; }
h1 { font-size: 19pt; margin: 0 0 4pt; } h2 { font-size: 13.5pt; margin: 16pt 0 5pt; border-bottom: 1.5pt solid #2166ac;
  padding-bottom: 2pt; page-break-after: avoid; } h3 { font-size: 10.5pt; margin: 10pt 0 3pt; page-break-after: avoid; }
.level { string-set: level content(); display: inline-block; color: #fff; padding: 2pt 7pt; border-radius: 3pt;
  font-weight: bold; }
table { border-collapse: collapse; width: 100%; margin: 3pt 0; font-size: 8.5pt; page-break-inside: avoid; }
th, td { border: 0.5pt solid #999; padding: 2pt 4pt; } th { background: #e8eef5; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.caption { font-size: 7.8pt; color: #444; margin: 2pt 0 8pt; }
figure { margin: 4pt 0; page-break-inside: avoid; } figure img { width: 100%; border: 0.5pt solid #999; }
.block { page-break-inside: avoid; }
"""


def _cell(value: Any) -> tuple[str, bool]:
    from observatoire import french

    if isinstance(value, bool):
        return ("oui" if value else "non"), False
    if isinstance(value, int | float) and not french.is_unknown(value):
        decimals = 0 if float(value).is_integer() else 2
        return french.number(value, decimals), True
    if french.is_unknown(value):
        return french.UNKNOWN, True
    return str(value), False


def table_html(table: Table) -> str:
    e = html.escape
    frame = (
        table.frame.rename_axis(table.frame.index.name or "Territoire").reset_index()
        if table.index
        else table.frame
    )
    head = "".join(f"<th>{e(str(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False, name=None):
        cells = []
        for v in values:
            text, numeric = _cell(v)
            cells.append(f'<td class="n">{e(text)}</td>' if numeric else f"<td>{e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = " ".join(x for x in (table.source, table.method) if x)
    return (
        f'<div class="block"><h3>{e(table.title)}</h3><table><thead><tr>{head}</tr></thead><tbody>'
        f'{"".join(rows)}</tbody></table><p class="caption">{e(caption)}</p></div>'
    )


def figure_html(fig: Figure) -> str:
    e = html.escape
    data = base64.b64encode(fig.png).decode("ascii")
    caption = " ".join(x for x in (fig.source, fig.method) if x)
    return (
        f'<figure><h3>{e(fig.title)}</h3><img alt="{e(fig.title)}" src="data:image/png;base64,{data}">'
        f'<p class="caption">{e(caption)}</p></figure>'
    )


def to_html(report: Report) -> str:
    e = html.escape
    parts = [
        f"<h1>{e(report.title)}</h1><p>{e(report.subtitle)}</p>",
        f'<p><span class="level" style="background:{report.audience_colour}">Diffusion : '
        f"{e(report.audience_label)}</span></p><p>{e(report.produced)}</p>",
        "<h2>Sommaire</h2><ol>" + "".join(f"<li>{e(s.title)}</li>" for s in report.sections) + "</ol>",
    ]
    if report.skipped:
        parts.append("<p>Sources non chargées, sections omises : " + e(", ".join(report.skipped)) + ".</p>")
    for note in report.notes:
        parts.append(f"<p>{e(note)}</p>")
    for section in report.sections:
        parts.append(f"<h2>{e(section.title)}</h2>")
        if section.intro:
            parts.append(f"<p>{e(section.intro)}</p>")
        for block in section.blocks:
            if isinstance(block, Table):
                parts.append(table_html(block))
            elif isinstance(block, Figure):
                parts.append(figure_html(block))
            else:
                parts.append(f"<p>{e(block)}</p>")
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{e(report.title)}</title><style>{CSS}</style></head><body>"
        + "".join(parts)
        + "</body></html>"
    )


def to_pdf(page: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=page).write_pdf()
