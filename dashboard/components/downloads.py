"""What a ``dcc.Download`` receives: the French tables of :mod:`observatoire.tables`, for every page."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc

from observatoire import tables


def csv_file(frame: pd.DataFrame, filename: str) -> dict[str, Any]:
    """The table as a French CSV (``;``, decimal comma, jj/mm/aaaa, byte order mark for Excel)."""
    return {"content": tables.to_csv_text(frame), "filename": filename, "type": "text/csv"}


def xlsx_file(
    frame: pd.DataFrame, filename: str, sheet: str, title: str | None = None, source: str | None = None
) -> dict[str, Any]:
    """The table as one sheet of a workbook, its title above and its source under it."""
    return dcc.send_bytes(tables.to_xlsx_bytes(frame, sheet, title=title, source=source), filename)
