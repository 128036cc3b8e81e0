"""Tables written for French spreadsheets: every download of the dashboard and every CLI export.

CSV: ``;`` between fields, UTF-8 with a byte order mark (Excel opens it without asking for the encoding),
decimal comma, dates ``jj/mm/aaaa`` (and ``jj/mm/aaaa hh:mm`` for moments, Paris time); an unknown value
is an empty field, never 0. XLSX: a title line above the table and the source line under it; numbers and
dates stay numbers and dates, shown ``jj/mm/aaaa``.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from observatoire import french

SEPARATOR = ";"
DECIMAL = ","
BOM = "\ufeff"


def to_csv_text(frame: pd.DataFrame) -> str:
    """The CSV as text, its byte order mark first (what a Dash download sends as is)."""
    return BOM + _french_values(frame).to_csv(
        sep=SEPARATOR, decimal=DECIMAL, index=False, lineterminator="\n"
    )


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The CSV as UTF-8 bytes (what a CLI export writes)."""
    return to_csv_text(frame).encode("utf-8")


def to_xlsx_bytes(
    frame: pd.DataFrame, sheet: str = "donnees", title: str | None = None, source: str | None = None
) -> bytes:
    """One sheet: ``title`` on the first line (when given), the table, then ``source`` under it."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]  # Excel's limit
    row = 1
    if title:
        ws.cell(row=row, column=1, value=title).font = Font(bold=True, size=12)
        row += 1
    for col, name in enumerate(frame.columns, start=1):
        ws.cell(row=row, column=col, value=str(name)).font = Font(bold=True)
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    widths = [len(str(name)) for name in frame.columns]
    for values in frame.itertuples(index=False, name=None):
        row += 1
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col, value=_cell_value(value))
            if isinstance(cell.value, datetime):
                has_time = cell.value.time() != datetime.min.time()
                cell.number_format = "DD/MM/YYYY HH:MM" if has_time else "DD/MM/YYYY"
            elif isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
            widths[col - 1] = max(widths[col - 1], len(str(cell.value or "")))
    if source:
        ws.cell(row=row + 2, column=1, value=source).font = Font(italic=True)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(max(width, 8) + 2, 60)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _french_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and moments as French text, and the decimals pandas would leave with a point (numbers mixed
    with text in one column) with a comma; float columns get theirs from ``to_csv(decimal=…)``."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            out[name] = _dates_as_text(column)
        elif column.dtype == object:
            out[name] = _objects_as_text(column)
    return out


def _dates_as_text(column: pd.Series) -> pd.Series:
    if getattr(column.dt, "tz", None) is not None:
        column = column.dt.tz_convert(french.PARIS).dt.tz_localize(None)
    known = column.dropna()
    moments = bool(len(known)) and bool((known != known.dt.normalize()).any())
    fmt = french.MOMENT_FORMAT if moments else french.DAY_FORMAT
    return column.dt.strftime(fmt).where(column.notna(), None)


def _objects_as_text(column: pd.Series) -> pd.Series:
    values = [v for v in column if not french.is_unknown(v)]
    if not any(isinstance(v, float | Decimal | date) and not isinstance(v, bool) for v in values):
        return column
    moments = any(isinstance(v, datetime) and v.time() != datetime.min.time() for v in values)
    return column.map(lambda v: _text(v, moments))


def _text(value: Any, moments: bool) -> Any:
    if french.is_unknown(value):
        return None
    if isinstance(value, datetime):
        return french.moment(value) if moments else french.day(value)
    if isinstance(value, date):
        return french.day(value)
    if isinstance(value, float | Decimal):
        return str(value).replace(".", DECIMAL)
    return value


def _cell_value(value: Any) -> Any:
    """What an openpyxl cell takes: Python scalars, naive datetimes (Paris time), nothing for unknown."""
    if french.is_unknown(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(french.PARIS).replace(tzinfo=None)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, list | tuple | dict | set):
        value = str(value)
    return value
