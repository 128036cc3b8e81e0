"""Reading files as they really come: gzip or not, UTF-8 with or without BOM or cp1252, any separator,
French decimals and dates. Small pure functions, shared by every source."""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from observatoire.errors import InputFileError
from observatoire.text import normalise_header

_SNIFF_BYTES = 64 * 1024
# Control characters other than tab and line ends: no office export writes them in a value; a NUL byte is
# refused by PostgreSQL in text, and they hide in what a person reads. Same bytes in UTF-8 and cp1252.
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def open_bytes(path: Path) -> io.BufferedReader:
    """The file's bytes, transparently gunzipped."""
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def detect_encoding(sample: bytes) -> str:
    """``utf-8-sig`` when the bytes are UTF-8 (BOM or not), else ``cp1252`` (a superset of latin-1
    for the characters French exports use)."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if exc.start >= len(sample) - 3:
            return "utf-8-sig"
        return "cp1252"


def detect_separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t", "|")}
    sep, n = max(counts.items(), key=lambda kv: kv[1])
    return sep if n else ";"


@dataclass
class TextTable:
    """A delimited text file opened for streaming: header, encoding, separator and a row iterator."""

    path: Path
    encoding: str
    separator: str
    header: list[str]
    header_line: int  # 1-based line number of the header

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) for each data row; blank lines skipped."""
        return iter_rows(self)

    def _refuse_control(self, line: int, index: int, value: str) -> None:
        byte = ord(_CONTROL_CHARS.search(value).group())  # type: ignore[union-attr]
        column = self.header[index] if index < len(self.header) else f"n° {index + 1}"
        raise InputFileError(
            f"{self.path.name}, ligne {line}, colonne « {column[:60]} » : caractère de contrôle (code {byte:#04x}) "
            "dans une valeur. Aucun export de logiciel de bureau n'en écrit : le fichier est peut-être endommagé ou "
            "n'est pas un fichier texte. Réexportez-le depuis le logiciel d'origine."
        )


def open_table(path: Path, *, expected: set[str] | None = None, max_header_search: int = 15) -> TextTable:
    """Open a delimited file, find its header line (the first one holding any of ``expected``)."""
    path = Path(path)
    with open_bytes(path) as raw:
        sample = raw.read(_SNIFF_BYTES)
    if not sample.strip():
        raise InputFileError(f"{path.name} est vide.")
    encoding = detect_encoding(sample)
    text = sample.decode(encoding, errors="replace")
    lines = text.splitlines()
    header_idx = 0
    if expected:
        wanted = {normalise_header(e) for e in expected}
        for i, line in enumerate(lines[:max_header_search]):
            cells = {normalise_header(c) for c in re.split(r"[;,\t|]", line)}
            if cells & wanted:
                header_idx = i
                break
    separator = detect_separator(lines[header_idx])
    header = next(csv.reader([lines[header_idx]], delimiter=separator))
    header = [h.strip().strip("\ufeff") for h in header]
    return TextTable(path, encoding, separator, header, header_idx + 1)


def parse_decimal(raw: str | None) -> float | None:
    """``1 234,5`` / ``1234.5`` / `` -0,96`` → float; empty → None; anything else raises ValueError."""
    if raw is None:
        return None
    value = raw.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if value == "" or value.upper() in ("NA", "NAN", "NULL"):
        return None
    if "," in value and "." in value:
        value = value.replace(".", "").replace(",", ".")
    else:
        value = value.replace(",", ".")
    return float(value)


def parse_int(raw: str | None) -> int | None:
    value = parse_decimal(raw)
    if value is None:
        return None
    if value != int(value):
        raise ValueError(f"{raw!r} n'est pas un entier")
    return int(value)


_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PATTERNS = (
    (re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$"), "dmy"),
    (re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2})$"), "dmy2"),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), "ymd"),
)


def parse_date(raw: str | None) -> date | None:
    """French dates (jj/mm/aaaa, jj/mm/aa), ISO, Excel serial days; None when empty; ValueError if not."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    for pattern, kind in _DATE_PATTERNS:
        m = pattern.match(value)
        if m:
            a, b, c = (int(x) for x in m.groups())
            if kind == "dmy":
                return date(c, b, a)
            if kind == "dmy2":
                return date(2000 + c if c < 70 else 1900 + c, b, a)
            return date(a, b, c)
    if re.fullmatch(r"\d{5}(\.\d+)?", value):
        serial = float(value)
        if 20000 < serial < 80000:
            return _EXCEL_EPOCH + timedelta(days=int(serial))
    raise ValueError(f"date non reconnue : {value!r} (attendu jj/mm/aaaa, jj/mm/aa ou aaaa-mm-jj)")


_TIME_RE = re.compile(r"^(\d{1,2})\s*[:hH]\s*(\d{2})?(?:[:](\d{2}))?$")


def parse_time(raw: str | None) -> time | None:
    """``14:05``, ``14h05``, ``14H``, ``1405``, ``740`` (HHMM without leading zero), Excel fractions."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    m = _TIME_RE.match(value)
    if m:
        hour, minute, second = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
        return time(hour, minute, second)
    if value.isdigit() and len(value) <= 4:
        number = int(value)
        return time(number // 100, number % 100)
    if re.fullmatch(r"0?\.\d+", value):
        seconds = round(float(value) * 86400)
        return time(seconds // 3600 % 24, seconds // 60 % 60)
    raise ValueError(f"heure non reconnue : {value!r} (attendu HH:MM ou HHhMM)")


def parse_datetime(raw: str | None) -> datetime | None:
    """A date and a time in one field (``12/03/2024 14:05``, ISO ``2024-03-12T14:05``)."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip().replace("T", " ")
    parts = value.split()
    day = parse_date(parts[0])
    assert day is not None
    moment = parse_time(parts[1]) if len(parts) > 1 else time(0, 0)
    return datetime.combine(day, moment or time(0, 0))


def iter_rows(
    table: TextTable, on_position: Callable[[float], None] | None = None, every: int = 50_000
) -> Iterator[tuple[int, list[str]]]:
    """Like :meth:`TextTable.rows`, telling ``on_position`` the share of the file read every ``every``
    rows, so a page can show progress on a large file."""
    size = max(Path(table.path).stat().st_size, 1)
    with open_bytes(table.path) as raw:
        text = io.TextIOWrapper(raw, encoding=table.encoding, errors="strict", newline="")
        reader = csv.reader(text, delimiter=table.separator)
        count = 0
        try:
            for _ in range(table.header_line):
                next(reader)
            for row in reader:
                if not row or not "".join(row).strip():
                    continue
                for i, value in enumerate(row):
                    if _CONTROL_CHARS.search(value):
                        table._refuse_control(reader.line_num, i, value)
                yield reader.line_num, row
                count += 1
                if on_position is not None and count % every == 0:
                    # gzip readers tell the uncompressed offset: the share is then approximate
                    on_position(min(raw.tell() / size, 1.0))
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"{table.path.name} : caractère illisible en {table.encoding} vers la ligne {reader.line_num} ; "
                "enregistrez le fichier en UTF-8 ou en Windows-1252."
            ) from exc
