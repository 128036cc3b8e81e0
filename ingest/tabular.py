"""Tabular exports (CSV or XLSX) read through a column mapping: field descriptions, header-variant
recognition with a confidence, previews. Shared by every source whose files come from office software."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ingest import reading
from observatoire.errors import InputFileError
from observatoire.text import normalise_header

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CRS_CHOICES = ("auto", "wgs84", "lambert93")
# What a message repeats of a file's header: a header cell can hold 100 KB, a header thousands of cells.
SHOWN_NAME_CHARS = 80
SHOWN_NAMES = 20


def shown_name(text: str, limit: int = SHOWN_NAME_CHARS) -> str:
    """A file's text (a column name…) as a message repeats it: at most ``limit`` characters."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown_names(names: Sequence[str], limit: int = SHOWN_NAMES) -> str:
    """Column names for a message: the first ``limit`` non-empty ones, each cut by :func:`shown_name`."""
    named = [shown_name(n) for n in names if n]
    text = ", ".join(named[:limit])
    if len(named) > limit:
        text += f" … ({len(named) - limit} autre(s))"
    return text


@dataclass(frozen=True)
class Field:
    """A field of the observatoire a file column can be mapped to."""

    name: str
    label: str  # French, shown in the mapping form
    variants: tuple[str, ...] = ()  # header spellings recognised automatically
    kind: str = "text"  # date | time | text | number | id
    required: bool = False


@dataclass
class ColumnMapping:
    """Which file column feeds which field (by header text), and the coordinates' system."""

    columns: dict[str, str] = field(default_factory=dict)
    crs: str = "auto"
    sheet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"columns": dict(self.columns), "crs": self.crs, "sheet": self.sheet}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnMapping:
        crs = data.get("crs") or "auto"
        if crs not in CRS_CHOICES:
            raise InputFileError(
                f"Système de coordonnées inconnu : {crs!r} (possibles : {', '.join(CRS_CHOICES)})."
            )
        return cls(columns=dict(data.get("columns") or {}), crs=crs, sheet=data.get("sheet"))


@dataclass
class Table:
    """An opened export: its header and a row iterator, whatever the format."""

    path: Path
    kind: str  # csv | xlsx
    header: list[str]
    header_line: int
    encoding: str | None
    separator: str | None
    _rows: Callable[[Callable[[float], None] | None], Iterator[tuple[int, list[str]]]]

    def rows(self, on_position: Callable[[float], None] | None = None) -> Iterator[tuple[int, list[str]]]:
        return self._rows(on_position)


def _variants(fields: Sequence[Field]) -> set[str]:
    return {v for f in fields for v in f.variants}


def open_export(path: Path, fields: Sequence[Field], sheet: str | None = None) -> Table:
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"Fichier introuvable : {path}")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _open_excel(path, fields, sheet)
    if path.suffix.lower() == ".xls":
        raise InputFileError(
            f"{path.name} : l'ancien format Excel .xls n'est pas lu ; enregistrez-le en .xlsx ou en CSV."
        )
    text = reading.open_table(path, expected=_variants(fields))
    return Table(
        path,
        "csv",
        text.header,
        text.header_line,
        text.encoding,
        text.separator,
        lambda cb: reading.iter_rows(text, cb),
    )


def cell_text(value: Any) -> str:
    """An Excel cell as the text a CSV export would hold (ISO dates, HH:MM, a dot for decimals)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _unreadable_workbook(path: Path, exc: Exception) -> InputFileError:
    return InputFileError(
        f"{path.name} n'est pas un classeur Excel lisible : il est endommagé, incomplet (copie ou téléchargement "
        "interrompu ?) ou d'un autre format sous l'extension .xlsx. Ouvrez-le dans Excel ou LibreOffice et "
        "enregistrez-le à nouveau en .xlsx, ou exportez-le en CSV.",
        detail=f"{type(exc).__name__}: {exc}",
    )


def _open_excel(path: Path, fields: Sequence[Field], sheet: str | None) -> Table:
    """The header is found in the first rows without reading the rest of the file (see
    :mod:`ingest.workbook`): a header refused costs what the header holds, whatever the file's size."""
    from ingest.workbook import workbook

    def sheet_of(book):
        return book[sheet] if sheet else book.worksheets[0]

    wanted = {normalise_header(v) for v in _variants(fields)}
    header: list[str] | None = None
    header_line = 1
    try:
        with workbook(path) as book:
            if sheet and sheet not in book.sheetnames:
                raise InputFileError(
                    f"{path.name} : feuille « {shown_name(sheet)} » absente "
                    f"(feuilles : {shown_names(book.sheetnames)})."
                )
            for i, row in enumerate(sheet_of(book).iter_rows(max_row=15, values_only=True), start=1):
                cells = [cell_text(v) for v in row]
                if header is None and any(cells):
                    header, header_line = cells, i
                if {normalise_header(c) for c in cells} & wanted:
                    header, header_line = cells, i
                    break
    except InputFileError:
        raise
    except Exception as exc:  # openpyxl, zipfile, zlib and the XML parser raise many kinds for a damaged file
        raise _unreadable_workbook(path, exc) from exc
    if header is None:
        raise InputFileError(f"{path.name} : la feuille est vide.")
    while header and not header[-1]:
        header.pop()
    header = [h.strip() for h in header]

    def rows(on_position: Callable[[float], None] | None) -> Iterator[tuple[int, list[str]]]:
        try:
            with workbook(path) as book:
                sheet_rows = sheet_of(book)
                total = max(sheet_rows.max_row or 1, 1)
                for line, row in enumerate(
                    sheet_rows.iter_rows(min_row=header_line + 1, values_only=True), start=header_line + 1
                ):
                    cells = [cell_text(v) for v in row[: len(header)]]
                    if any(cells):
                        yield line, cells
                    if on_position is not None and line % 20_000 == 0:
                        on_position(min(line / total, 1.0))
        except InputFileError:
            raise
        except Exception as exc:  # a workbook can be damaged further down than its first rows
            raise _unreadable_workbook(path, exc) from exc

    return Table(path, "xlsx", header, header_line, None, None, rows)


def _tokens(text: str) -> set[str]:
    return set(normalise_header(text).split())


def propose_mapping(header: Sequence[str], fields: Sequence[Field]) -> dict[str, tuple[str, float]]:
    """For each field, the header column that most likely feeds it and a confidence in [0, 1].

    1.0: the header is a known spelling; 0.7: it contains one (``Date de l'intervention``);
    0.5: it is close to one (a typo). Each column feeds at most one field, best confidence first.
    """
    candidates: list[tuple[float, int, str, str]] = []
    for order, f in enumerate(fields):
        variants = [normalise_header(v) for v in f.variants]
        for column in header:
            norm = normalise_header(column)
            if not norm:
                continue
            if norm in variants:
                score = 1.0
            elif any(len(v) > 2 and set(v.split()) <= set(norm.split()) for v in variants):
                score = 0.7
            elif difflib.get_close_matches(norm, variants, n=1, cutoff=0.85):
                score = 0.5
            else:
                continue
            candidates.append((score, -order, f.name, column))
    proposal: dict[str, tuple[str, float]] = {}
    used: set[str] = set()
    for score, _, name, column in sorted(candidates, reverse=True):
        if name in proposal or column in used:
            continue
        proposal[name] = (column, score)
        used.add(column)
    return proposal


def resolve(header: Sequence[str], fields: Sequence[Field], mapping: ColumnMapping | None) -> dict[str, int]:
    """Field name → column index; the proposal when no mapping is given. Unknown columns or fields are
    named with the allowed ones."""
    names = {f.name for f in fields}
    if mapping is None or not mapping.columns:
        chosen = {name: column for name, (column, _) in propose_mapping(header, fields).items()}
    else:
        chosen = dict(mapping.columns)
    index: dict[str, int] = {}
    positions = {h: i for i, h in reversed(list(enumerate(header)))}
    for name, column in chosen.items():
        if name not in names:
            raise InputFileError(
                f"Champ inconnu dans la correspondance : « {shown_name(name)} » "
                f"(champs possibles : {', '.join(sorted(names))})."
            )
        if not column:
            continue
        if column not in positions:
            raise InputFileError(
                f"La colonne « {shown_name(column)} » prévue pour « {name} » est absente du fichier "
                f"(colonnes trouvées : {shown_names(header)})."
            )
        index[name] = positions[column]
    return index


@dataclass
class Preview:
    """What an upload page shows before anything is validated."""

    file_name: str
    kind: str
    encoding: str | None
    separator: str | None
    header_line: int
    header: list[str]
    rows: list[list[str]]
    proposal: dict[str, tuple[str, float]]
    fields: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "kind": self.kind,
            "encoding": self.encoding,
            "separator": self.separator,
            "header_line": self.header_line,
            "header": self.header,
            "rows": self.rows,
            "proposal": {k: {"column": c, "confidence": s} for k, (c, s) in self.proposal.items()},
            "fields": self.fields,
        }


def preview(path: Path, fields: Sequence[Field], n: int = 10, sheet: str | None = None) -> Preview:
    return preview_table(open_export(path, fields, sheet), fields, n)


def preview_table(table: Table, fields: Sequence[Field], n: int = 10) -> Preview:
    """The preview of an export already opened (its header read, checked if need be, and nothing else)."""
    first: list[list[str]] = []
    for _, row in table.rows():
        first.append(row)
        if len(first) >= n:
            break
    return Preview(
        Path(table.path).name,
        table.kind,
        table.encoding,
        table.separator,
        table.header_line,
        table.header,
        first,
        propose_mapping(table.header, fields),
        [{"name": f.name, "label": f.label, "kind": f.kind, "required": f.required} for f in fields],
    )
