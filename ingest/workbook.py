"""Excel workbooks opened read-only at the cost of what is read of them.

openpyxl's read-only mode streams a sheet's rows, but opening the workbook first reads the whole shared-strings
table (every distinct text of the file) and, when a sheet does not state its size at its top, parses the whole
sheet to look for it: for a 34 MB export, a minute and hundreds of megabytes before the first row, so a header
refused for personal data cost the whole file. Here the strings are parsed on demand, up to the highest index a
cell has named, and a sheet's size is looked for before its rows only: reading the header and a few rows costs
what they hold, and reading every row costs what openpyxl's own reading does.

    with workbook(path) as book:
        for row in book.worksheets[0].iter_rows(max_row=15, values_only=True): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

_STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"
_DIMENSION_TAG = f"{{{SHEET_MAIN_NS}}}dimension"
_DATA_TAG = f"{{{SHEET_MAIN_NS}}}sheetData"


class LazyStrings:
    """The shared-strings table of a workbook, parsed up to the highest index asked for so far."""

    def __init__(self, archive: Any, member: str) -> None:
        self._archive = archive
        self._member = member
        self._strings: list[str] = []
        self._source: IO[bytes] | None = None
        self._events: Iterator[tuple[str, Any]] | None = None
        self._done = False

    def __getitem__(self, index: int) -> str:
        while index >= len(self._strings) and self._next():
            pass
        return self._strings[index]  # an index past the table raises IndexError, as openpyxl's list does

    @property
    def parsed(self) -> int:
        """How many strings have been read (the others were never needed)."""
        return len(self._strings)

    def _next(self) -> bool:
        if self._done:
            return False
        if self._events is None:
            self._source = self._archive.open(self._member)
            self._events = iterparse(self._source)
        for _, node in self._events:
            if node.tag == _STRING_TAG:
                self._strings.append(Text.from_tree(node).content.replace("x005F_", ""))
                node.clear()
                return True
        self.close()
        return False

    def close(self) -> None:
        self._done = True
        if self._source is not None:
            self._source.close()
            self._source = None


class _Sheet(ReadOnlyWorksheet):
    """openpyxl's read-only sheet, whose size (``<dimension>``, optional) is looked for before the rows only:
    openpyxl's own search stops at the end of the rows, having parsed them all."""

    def _get_size(self) -> None:
        with self._get_source() as source:
            for _, element in iterparse(source, events=("start",)):
                if element.tag == _DIMENSION_TAG:
                    bounds = SheetDimension.from_tree(element).boundaries
                    self._min_column, self._min_row, self._max_column, self._max_row = bounds
                    return
                if element.tag == _DATA_TAG:
                    return


class _Reader(ExcelReader):
    """openpyxl's read-only reader, but for the shared strings, left to :class:`LazyStrings`, and the sheets'
    sizes, to :class:`_Sheet`."""

    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        self.shared_strings: LazyStrings | list[str] = (
            LazyStrings(self.archive, part.PartName[1:]) if part is not None else []
        )

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue
            ws = _Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
            ws.sheet_state = sheet.state
            self.wb._sheets.append(ws)


def open_workbook(path: Path) -> Workbook:
    """The workbook at ``path``, read-only, cached formula values; close it with :func:`close_workbook`."""
    reader = _Reader(str(path), read_only=True, data_only=True)
    reader.read()
    reader.wb._obs_strings = reader.shared_strings  # closed with the workbook
    return reader.wb


def close_workbook(book: Workbook) -> None:
    strings = getattr(book, "_obs_strings", None)
    if isinstance(strings, LazyStrings):
        strings.close()
    book.close()


@contextmanager
def workbook(path: Path) -> Iterator[Workbook]:
    book = open_workbook(path)
    try:
        yield book
    finally:
        close_workbook(book)
