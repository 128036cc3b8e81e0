"""Accessible HTML tables (caption, header scope) built from DataFrames: the table beside every chart."""

from __future__ import annotations

import pandas as pd
from dash import html

# The look of every DataTable (register, audit log, exports list): the page's font, text left, rows that wrap.
DATATABLE_STYLE = {
    "style_cell": {
        "fontFamily": "inherit",
        "textAlign": "left",
        "padding": "4px 8px",
        "whiteSpace": "normal",
    },
    "style_header": {"fontWeight": "bold", "fontFamily": "inherit"},
}


def frame_table(frame: pd.DataFrame, caption: str, table_id: str, index_header: str = "") -> html.Table:
    header = ([html.Th(index_header, scope="col")] if index_header is not None else []) + [
        html.Th(str(c), scope="col") for c in frame.columns
    ]
    rows = []
    for label, *values in frame.itertuples(index=True, name=None):  # plain tuples: no Series per row
        cells = [html.Th(str(label), scope="row")] if index_header is not None else []
        cells += [
            html.Td("" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)) for v in values
        ]
        rows.append(html.Tr(cells))
    return html.Table(
        [html.Caption(caption), html.Thead(html.Tr(header)), html.Tbody(rows)],
        className="obs-table",
        id=table_id,
    )
