"""Tables written for French spreadsheets: every download of the dashboard and every CLI export.

CSV: ``;`` between fields, lines ending CR LF, UTF-8 with a byte order mark (Excel opens it without asking for the encoding),
decimal comma, dates ``jj/mm/aaaa`` (and ``jj/mm/aaaa hh:mm`` for moments, Paris time); an unknown value
is an empty field, never 0. XLSX: a title line above the table and the source line under it; numbers and
dates stay numbers and dates, shown ``jj/mm/aaaa``.

Text never becomes a formula: a name read from an imported file (a sector, a territory) may start with ``=``,
``+``, ``-`` or ``@`` (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``). In a CSV such a text cell gets an apostrophe
first (the OWASP rule against formula injection), a signed number written as text excepted; in a workbook every
text is a string cell, whatever its first character. Numbers stay numbers in both.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from observatoire import french

SEPARATOR = ";"
DECIMAL = ","
BOM = "\ufeff"
# First characters that make a spreadsheet read a cell as a formula or a command.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-]?\d+(?:[ \u00a0\u202f]\d{3})*(?:[.,]\d+)?(?:[ \u00a0\u202f]?[%‰])?")


def neutralise(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs: an apostrophe before a formula's first character. A signed
    number written as text (``-12``, ``+3,5 %``) is left as it is: a spreadsheet reads it as the number."""
    if text.startswith(FORMULA_LEADS) and not _SIGNED_NUMBER.fullmatch(text):
        return "'" + text
    return text


def to_csv_text(frame: pd.DataFrame) -> str:
    """The CSV as text, its byte order mark first (what a Dash download sends as is)."""
    # Lines end with CR LF (RFC 4180): the writer then quotes a value holding either, so a carriage return
    # inside a text never starts a row of its own in a spreadsheet.
    return BOM + _french_values(frame).to_csv(
        sep=SEPARATOR, decimal=DECIMAL, index=False, lineterminator="\r\n"
    )


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The CSV as UTF-8 bytes (what a CLI export writes)."""
    return to_csv_text(frame).encode("utf-8")


def to_xlsx_bytes(
    frame: pd.DataFrame, sheet: str = "donnees", title: str | None = None, source: str | None = None
) -> bytes:
    """One sheet: ``title`` on the first line (when given), the table, then ``source`` under it."""
    return to_xlsx_sheets([(frame, sheet, title, source)])


def to_xlsx_sheets(sheets: list[tuple[pd.DataFrame, str, str | None, str | None]]) -> bytes:
    """Several sheets of (table, sheet name, title, source) in one workbook, each as :func:`to_xlsx_bytes`."""
    from openpyxl import Workbook

    book = Workbook()
    for index, (frame, sheet, title, source) in enumerate(sheets):
        ws = book.active if index == 0 else book.create_sheet()
        _write_sheet(ws, frame, sheet, title, source)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_sheet(ws: Any, frame: pd.DataFrame, sheet: str, title: str | None, source: str | None) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws.title = sheet[:31]  # Excel's limit
    row = 1
    if title:
        _text_cell(ws, row, 1, title).font = Font(bold=True, size=12)
        row += 1
    for col, name in enumerate(frame.columns, start=1):
        _text_cell(ws, row, col, str(name)).font = Font(bold=True)
    ws.freeze_panes = ws.cell(row=row + 1, column=1)
    widths = [len(str(name)) for name in frame.columns]
    for values in frame.itertuples(index=False, name=None):
        row += 1
        for col, value in enumerate(values, start=1):
            value = _cell_value(value)
            cell = _text_cell(ws, row, col, value) if isinstance(value, str) else ws.cell(row, col, value)
            if isinstance(cell.value, datetime):
                has_time = cell.value.time() != datetime.min.time()
                cell.number_format = "DD/MM/YYYY HH:MM" if has_time else "DD/MM/YYYY"
            elif isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
            widths[col - 1] = max(widths[col - 1], len(str(cell.value or "")))
    if source:
        _text_cell(ws, row + 2, 1, source).font = Font(italic=True)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(max(width, 8) + 2, 60)


def _text_cell(ws: Any, row: int, col: int, text: str) -> Any:
    """A string cell holding ``text`` as it is: never a formula, whatever its first character; the characters
    a workbook cannot hold (control characters) left out."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell = ws.cell(row=row, column=col)
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", text)
    cell.data_type = "s"  # set after the value: openpyxl makes a formula of a text starting with "="
    return cell


def _french_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and moments as French text, and the decimals pandas would leave with a point (numbers mixed
    with text in one column) with a comma; float columns get theirs from ``to_csv(decimal=…)``. Texts that a
    spreadsheet would run, column names included, neutralised (:func:`neutralise`)."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            out[name] = _dates_as_text(column)
        elif column.dtype == object:
            out[name] = _objects_as_text(column)
        elif pd.api.types.is_string_dtype(column.dtype) or isinstance(column.dtype, pd.CategoricalDtype):
            out[name] = column.astype(object).map(lambda v: neutralise(v) if isinstance(v, str) else v)
    out.columns = [neutralise(c) if isinstance(c, str) else c for c in out.columns]
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
        return column.map(lambda v: neutralise(v) if isinstance(v, str) else v)
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
    if isinstance(value, str):
        return neutralise(value)
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
