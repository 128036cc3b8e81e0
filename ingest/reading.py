"""Reading files as they really come: gzip or not, UTF-8 with or without BOM or cp1252, any separator,
French decimals and dates. Small pure functions, shared by every source."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import math
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from observatoire import french
from observatoire.errors import InputFileError
from observatoire.text import normalise_header

_SNIFF_BYTES = 64 * 1024
_CHUNK = 1 << 24  # bytes read at a time when a whole file is looked at
BOM = b"\xef\xbb\xbf"
# Control characters other than tab and line ends: no office export writes them in a value; a NUL byte is
# refused by PostgreSQL in text, and they hide in what a person reads. Same bytes in UTF-8 and cp1252.
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The bytes Windows-1252 leaves undefined.
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# In a Windows-1252 file, a line whose accents all read as UTF-8 is chance (« É » then « » » or a no-break
# space, and no other accent): fewer than one such line for this many lines with other accents. More, and the
# file is UTF-8 with a damaged character, or lines of both encodings put together.
_CP1252_PER_UTF8_LINE = 20
FIELD_LIMIT = csv.field_size_limit()


def open_bytes(path: Path) -> io.BufferedReader:
    """The file's bytes, transparently gunzipped (read them inside :func:`damage_refused`)."""
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


@contextmanager
def damage_refused(path: Path) -> Iterator[None]:
    """What a damaged or cut gzip file raises while it is read, as a French refusal."""
    try:
        yield
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputFileError(
            f"{Path(path).name} : le fichier compressé (gzip) est endommagé ou incomplet (copie ou "
            "téléchargement interrompu ?). Recopiez-le ou téléchargez-le à nouveau, ou importez le fichier "
            "non compressé.",
            detail=repr(exc),
        ) from exc


def _chunks(path: Path) -> Iterator[bytes]:
    with damage_refused(path), open_bytes(path) as raw:
        while chunk := raw.read(_CHUNK):
            yield chunk


def _complete(data: bytes) -> int:
    """Where ``data`` stops being whole UTF-8 sequences: the start of a sequence its end cuts, else its length."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return len(data)
        if byte >= 0xC0:
            needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) - back if back < needed else len(data)
    return len(data)


@dataclass
class _Bytes:
    """What the non-ASCII bytes of a file that is not UTF-8 throughout say of its encoding."""

    bom: bool = False
    utf8_lines: int = 0  # lines whose non-ASCII bytes are all well-formed UTF-8 sequences
    other_lines: int = 0  # lines with a non-ASCII byte outside such a sequence
    not_utf8: tuple[int, int] | None = None  # (line, byte) of the first byte UTF-8 cannot read
    not_cp1252: tuple[int, int] | None = None  # (line, byte) of the first byte Windows-1252 leaves undefined


def _first_not_utf8(path: Path) -> bool:
    """Whether some byte of the file is not UTF-8 (one pass at C speed: most files are UTF-8)."""
    carry = b""
    for chunk in _chunks(path):
        data = carry + chunk
        cut = _complete(data)
        try:
            data[:cut].decode("utf-8")
        except UnicodeDecodeError:
            return True
        carry = data[cut:]
    return bool(carry)


def _sequences(data: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Length (2 to 4) of the well-formed UTF-8 sequence starting at each non-ASCII byte ``high`` of ``data``
    (a byte array padded with 3 zeros), 0 where none starts."""
    lead, b1, b2, b3 = (data[high + k] for k in range(4))
    cont1, cont2, cont3 = ((b & 0xC0) == 0x80 for b in (b1, b2, b3))
    two = (lead >= 0xC2) & (lead <= 0xDF) & cont1
    three = (lead >= 0xE0) & (lead <= 0xEF) & cont1 & cont2
    three &= ~((lead == 0xE0) & (b1 < 0xA0)) & ~((lead == 0xED) & (b1 > 0x9F))  # overlong, surrogate
    four = (lead >= 0xF0) & (lead <= 0xF4) & cont1 & cont2 & cont3
    four &= ~((lead == 0xF0) & (b1 < 0x90)) & ~((lead == 0xF4) & (b1 > 0x8F))  # overlong, past U+10FFFF
    return np.select([two, three, four], [2, 3, 4], 0)


def _count_lines(body: bytes, found: _Bytes) -> None:
    """Add the lines of ``body`` whose non-ASCII bytes are all UTF-8 sequences, and those with another one (over
    arrays: a Windows-1252 file has an accent on most lines)."""
    data = np.frombuffer(body + b"\0\0\0", dtype=np.uint8)
    high = np.flatnonzero(data >= 0x80)
    if not len(high):
        return
    length = _sequences(data, high)
    starts = high[length > 0]
    covered = np.zeros(len(data), dtype=bool)
    for k in range(4):  # each sequence's bytes
        covered[high[length > k] + k] = True
    stray = high[~covered[high]]
    newlines = np.flatnonzero(data == 0x0A)  # the line of a byte: how many line ends come before it
    stray_lines = np.unique(np.searchsorted(newlines, stray))
    sequence_lines = np.unique(np.searchsorted(newlines, starts))
    found.other_lines += len(stray_lines)
    found.utf8_lines += len(np.setdiff1d(sequence_lines, stray_lines, assume_unique=True))


def _survey(path: Path) -> _Bytes:
    found = _Bytes()
    carry = b""
    line = 1
    first = True
    for chunk in itertools.chain(_chunks(path), [b""]):  # an empty chunk last: the end of the file
        data = carry + chunk
        cut = _complete(data) if chunk else len(data)
        body, carry = data[:cut], data[cut:]
        if first:
            found.bom, first = body.startswith(BOM), False
        _count_lines(body, found)
        if found.not_utf8 is None:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                found.not_utf8 = (line + body.count(b"\n", 0, exc.start), body[exc.start])
        if found.not_cp1252 is None and (undefined := _NOT_CP1252.search(body)):
            found.not_cp1252 = (line + body.count(b"\n", 0, undefined.start()), body[undefined.start()])
        line += body.count(b"\n")
    return found


def file_encoding(path: Path) -> str:
    """``utf-8-sig`` when every byte of the file is UTF-8 (byte order mark or not), ``cp1252`` when every byte
    is Windows-1252 and the file is no UTF-8 with a fault; anything else is refused, naming the line of the first
    byte that cannot be read. Decided on the whole file: one bad byte far down must not turn every accent of a
    UTF-8 file into « Ã© », nor a Windows-1252 file with its first accent far down be read as UTF-8."""
    path = Path(path)
    with damage_refused(path), open_bytes(path) as raw:
        head = raw.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(head) >= 4 and head.count(b"\x00") * 4 >= len(head)
    ):
        raise InputFileError(
            f"{path.name} est enregistré en UTF-16 ou UTF-32 (« Texte Unicode » d'Excel), qui n'est pas lu : "
            "enregistrez-le en « CSV UTF-8 (délimité par des virgules) » ou en « CSV (séparateur : point-virgule) »."
        )
    if not _first_not_utf8(path):
        return "utf-8-sig"
    found = _survey(path)
    if found.bom or found.utf8_lines * _CP1252_PER_UTF8_LINE > found.other_lines:
        line, byte = found.not_utf8 or (1, 0)
        cause = "commence par la marque des fichiers UTF-8 (BOM)" if found.bom else "est écrit en UTF-8"
        raise InputFileError(
            f"{path.name} {cause}, mais la ligne {line} contient un octet illisible en UTF-8 ({byte:#04x}) : un "
            "caractère y est endommagé, ou des lignes viennent d'un fichier d'un autre encodage. Rien n'est "
            "importé : corrigez cette ligne (retapez ses accents) ou réexportez le fichier depuis le logiciel "
            "d'origine, en UTF-8."
        )
    if found.not_cp1252 is not None:
        line, byte = found.not_cp1252
        raise InputFileError(
            f"{path.name} : caractère illisible ligne {line} (octet {byte:#04x}) : le fichier n'est ni en UTF-8 ni "
            "en Windows-1252. Enregistrez-le en UTF-8 (« CSV UTF-8 » dans Excel) ou réexportez-le depuis le "
            "logiciel d'origine."
        )
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
        refuse_control(self.path, self.header, line, index, value)


def has_control(value: str) -> bool:
    return _CONTROL_CHARS.search(value) is not None


def refuse_control(path: Path, header: list[str], line: int, index: int, value: str) -> None:
    """Refuse a value holding a control character, naming the line, the column and the character."""
    byte = ord(_CONTROL_CHARS.search(value).group())  # type: ignore[union-attr]
    column = header[index] if index < len(header) else f"n° {index + 1}"
    raise InputFileError(
        f"{Path(path).name}, ligne {line}, colonne « {column[:60]} » : caractère de contrôle (code {byte:#04x}) "
        "dans une valeur. Aucun export de logiciel de bureau n'en écrit : le fichier est peut-être endommagé ou "
        "n'est pas un fichier texte. Réexportez-le depuis le logiciel d'origine."
    )


def open_table(path: Path, *, expected: set[str] | None = None, max_header_search: int = 15) -> TextTable:
    """Open a delimited file, find its header line (the first one holding any of ``expected``)."""
    path = Path(path)
    encoding = file_encoding(path)
    with damage_refused(path), open_bytes(path) as raw:
        sample = raw.read(_SNIFF_BYTES)
    if not sample.removeprefix(BOM).strip():
        raise InputFileError(f"{path.name} est vide.")
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
    if len(sample) == _SNIFF_BYTES and header_idx >= len(lines) - 1:
        raise InputFileError(
            f"{path.name} : pas de ligne d'en-tête complète dans les {_SNIFF_BYTES // 1024} premiers Ko (une ligne "
            "démesurée ?) : ce n'est pas un export en colonnes. Réexportez-le en CSV depuis le logiciel d'origine."
        )
    separator = detect_separator(lines[header_idx])
    header = next(csv.reader([lines[header_idx]], delimiter=separator), [])
    header = [h.strip().strip("\ufeff") for h in header]
    for index, name in enumerate(header):
        if has_control(name):
            refuse_control(path, header, header_idx + 1, index, name)
    return TextTable(path, encoding, separator, header, header_idx + 1)


# A number as French software writes it: a decimal comma (or point), thousands apart by spaces, never by
# a point or a comma; an exponent may follow. ASCII digits only.
_FRENCH_NUMBER = re.compile(
    r"[+-]?(?:(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?", re.ASCII
)


def parse_decimal(raw: str | None) -> float | None:
    """``1 234,5`` / ``1234.5`` / `` -0,96`` → float; empty → None; anything else raises ValueError.

    French formats only: a value holding both a comma and a point (``5,787.12``, ``1.234,5``), two decimal
    separators, thousands apart by anything but spaces, digits of another script or a non-finite result is
    refused, never read as some other number."""
    if raw is None:
        return None
    value = raw.strip()
    if value == "" or value.upper() in ("NA", "NAN", "NULL"):
        return None
    if not _FRENCH_NUMBER.fullmatch(value):
        raise ValueError(
            f"nombre non reconnu : {value!r} (attendu à la française : 1234,5 ou 1 234,5 ; virgule ou point "
            "décimal, jamais les deux)"
        )
    number = float(value.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", "."))
    if not math.isfinite(number):
        raise ValueError(f"nombre hors limites : {value!r}")
    return number


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
    with damage_refused(table.path), open_bytes(table.path) as raw:
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
        except StopIteration:
            return  # no line after the header's
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"{table.path.name} : caractère illisible en {table.encoding} vers la ligne {reader.line_num + 1} ; "
                "enregistrez le fichier en UTF-8 ou en Windows-1252."
            ) from exc
        except csv.Error as exc:
            too_long = "larger than field limit" in str(exc)
            raise InputFileError(
                f"{table.path.name}, ligne {reader.line_num} : "
                + (
                    f"valeur de plus de {french.number(FIELD_LIMIT)} caractères (un guillemet jamais refermé, "
                    "peut-être)"
                    if too_long
                    else "ligne illisible en CSV"
                )
                + " : le fichier est endommagé ou n'est pas un export en colonnes. Réexportez-le depuis le logiciel "
                "d'origine.",
                detail=repr(exc),
            ) from exc
