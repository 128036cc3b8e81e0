"""A file's header is checked before the file is read whole: an XLSX refused for its header costs what its
header holds, not the whole workbook (its table of shared strings, its sheet parsed to the end); a CSV's header
is refused before its first row is read; and a message repeats at most a readable part of a header."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl.reader.excel
import openpyxl.worksheet._reader
import pytest
from openpyxl.utils import get_column_letter

from ingest import police_municipale as pm
from ingest import tabular, workbook
from observatoire.errors import InputFileError, PersonalDataRefused
from tests.pm_helpers import HEADER, ROWS, write_export

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def write_xlsx(path: Path, header: list[str], rows: list[list[str]], *, dimension: bool = True) -> Path:
    """A workbook as Excel writes one: every text in the shared-strings table, the sheet's size at its top
    (``dimension``) or not, as some software leaves it."""
    strings: dict[str, int] = {}
    lines = []
    for r, row in enumerate([header, *rows], start=1):
        cells = "".join(
            f'<c r="{get_column_letter(c)}{r}" t="s"><v>{strings.setdefault(v, len(strings))}</v></c>'
            for c, v in enumerate(row, start=1)
            if v != ""
        )
        lines.append(f'<row r="{r}">{cells}</row>')
    size = f'<dimension ref="A1:{get_column_letter(len(header))}{len(rows) + 1}"/>' if dimension else ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_TYPE}.sharedStrings+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{_RELS}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} xmlns:r="{_RELS}"><sheets>'
            '<sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{_RELS}/worksheet" '
            f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_RELS}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>',
        )
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}>{size}<sheetData>{"".join(lines)}'
            "</sheetData></worksheet>",
        )
        z.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS} count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">'
            + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
            + "</sst>",
        )
    return path


def _many_rows(n: int) -> list[list[str]]:
    """Rows whose texts are all different, as the addresses and numbers of a real export."""
    return [
        [*ROWS[i % len(ROWS)][:3], f"{i} rue de la Ville", "", "", "Centre", "Appel", "", f"MC-{i}"]
        for i in range(n)
    ]


@pytest.fixture
def whole_file_refused(monkeypatch):
    """Reading a whole table of strings, or a whole sheet to learn its size, fails the test."""

    def whole(*_args, **_kwargs):
        raise AssertionError("le fichier entier a été lu pour un refus d'en-tête")

    monkeypatch.setattr(openpyxl.reader.excel, "read_string_table", whole)
    monkeypatch.setattr(openpyxl.worksheet._reader.WorkSheetParser, "parse_dimensions", whole)
    opened: list[workbook.LazyStrings] = []
    real_init = workbook.LazyStrings.__init__

    def init(self, *args):
        real_init(self, *args)
        opened.append(self)

    monkeypatch.setattr(workbook.LazyStrings, "__init__", init)
    return opened


@pytest.mark.parametrize("dimension", [True, False], ids=["taille-indiquee", "taille-absente"])
def test_an_xlsx_header_refused_costs_only_its_header(engine, tmp_path, whole_file_refused, dimension):
    path = write_xlsx(tmp_path / "export.xlsx", [*HEADER, "Nom"], _many_rows(3000), dimension=dimension)
    with pytest.raises(PersonalDataRefused, match="« Nom » \\(n° 11\\)"):
        pm.preview(path)
    with pytest.raises(PersonalDataRefused, match="« Nom »"):
        pm.commit(engine, path, commune="04112")
    assert whole_file_refused and all(s.parsed <= 15 * 11 for s in whole_file_refused)  # 15 rows at most


def test_an_xlsx_preview_reads_its_first_rows_only_and_a_commit_reads_them_all(
    engine, tmp_path, whole_file_refused
):
    path = write_xlsx(tmp_path / "export.xlsx", HEADER, _many_rows(3000))
    shown = pm.preview(path)
    assert shown.header == HEADER and len(shown.rows) == 10 and shown.rows[9][3] == "9 rue de la Ville"
    assert max(s.parsed for s in whole_file_refused) < 100
    rows = list(tabular.open_export(path, pm.FIELDS).rows())
    assert len(rows) == 3000 and rows[-1] == (
        3001,
        [*ROWS[2999 % len(ROWS)][:3], "2999 rue de la Ville", "", "", "Centre", "Appel", "", "MC-2999"],
    )


def test_a_csv_header_is_refused_before_its_rows_are_read(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][2] = "Tapage\x00nocturne"  # a row the reader refuses, after a header the guard refuses
    path = write_export(tmp_path / "export.csv", header=[*HEADER, "Nom"], rows=[[*r, "x"] for r in rows])
    with pytest.raises(PersonalDataRefused, match="« Nom »"):
        pm.preview(path)


def test_messages_repeat_a_readable_part_of_a_header(engine, tmp_path):
    huge = "Nom " + "x" * 30_000  # within the 64 Ko a header line may hold (a longer one is refused unread)
    path = write_export(tmp_path / "entete.csv", header=[*HEADER, huge], rows=[[*r, "x"] for r in ROWS])
    for attempt in (lambda: pm.preview(path), lambda: pm.commit(engine, path, commune="04112")):
        with pytest.raises(PersonalDataRefused) as refused:
            attempt()
        assert len(refused.value.message) < 600 and "« Nom xxx" in refused.value.message

    many = [f"Colonne {i} " + "y" * 200 for i in range(200)]
    path = write_export(tmp_path / "colonnes.csv", header=many, rows=[["a"] * 200])
    with pytest.raises(InputFileError) as missing:
        pm.commit(engine, path, commune="04112")
    message = missing.value.message
    assert "Colonnes du fichier : Colonne 0 yyy" in message and "(180 autre(s))" in message
    assert len(message) < 20 * 90 + 600
    with pytest.raises(InputFileError) as absent:
        pm.commit(engine, path, mapping={"columns": {"date": "z" * 5000, "label": many[0]}}, commune="04112")
    assert len(absent.value.message) < 20 * 90 + 600
