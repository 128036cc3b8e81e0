"""What the camera and requisition imports share: opening a CSV or XLSX file with its header checked by the
personal-data guard, the columns found by name, the rows guarded as they stream by."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path

from ingest import privacy, reading, tabular
from ingest.tabular import Field
from observatoire.errors import InputFileError


def open_rows(
    path: Path, fields: Sequence[Field], strict: dict[str, str] | None = None
) -> tuple[list[str], dict[str, int], Iterator[tuple[int, list[str]]]]:
    """Header, field → column index, and the guarded rows. Missing required fields are named."""
    table = tabular.open_export(Path(path), fields)
    privacy.check_header(table.header)
    index = tabular.resolve(table.header, fields, None)
    missing = [f.label for f in fields if f.required and f.name not in index]
    if missing:
        raise InputFileError(
            f"{Path(path).name} : colonne(s) obligatoire(s) absente(s) : {', '.join(missing)} (colonnes trouvées : "
            f"{tabular.shown_names(table.header)})."
        )
    kinds = {index[name]: kind for name, kind in (strict or {}).items() if name in index}
    guard = privacy.ContentGuard(table.header, strict=kinds)
    return table.header, index, guard.rows(table.rows())


def cell(fields: list[str], index: dict[str, int], name: str) -> str | None:
    pos = index.get(name)
    if pos is None or pos >= len(fields):
        return None
    value = fields[pos].strip()
    return value or None


def day(raw: str | None) -> date | None:
    return reading.parse_date(raw.split(" ")[0].split("T")[0]) if raw else None


def moment(raw: str | None) -> datetime | None:
    if not raw:
        return None
    value = reading.parse_datetime(raw)
    if value is None:
        raise ValueError(f"date non reconnue : {raw!r}")
    return value


def yes_no(raw: str | None) -> bool | None:
    if raw is None:
        return None
    key = raw.strip().casefold()
    if key in ("oui", "o", "yes", "y", "1", "vrai", "true", "x"):
        return True
    if key in ("non", "n", "no", "0", "faux", "false"):
        return False
    if key in ("", "inconnu", "?", "nc", "ne sait pas"):
        return None
    raise ValueError(f"valeur « {raw} » non reconnue (oui, non ou vide)")


def recognised_columns(path: Path, fields: Sequence[Field]) -> list[tuple[str, str]]:
    """(field label, column of the file) of each field the header holds, the header checked by the
    personal-data guard; a missing required column is named (InputFileError)."""
    header, index, _rows = open_rows(path, fields)
    return [(f.label, header[index[f.name]]) for f in fields if f.name in index]
