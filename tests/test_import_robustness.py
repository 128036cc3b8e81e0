"""Bad files end an import with a French message naming where the fault is, never a hang or a traceback."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ingest import police_municipale as pm
from observatoire.errors import InputFileError
from tests.conftest import run_cli
from tests.pm_helpers import ROWS, write_export


def _with(value: str, row: int = 1, column: int = 2) -> list[list[str]]:
    rows = [list(r) for r in ROWS]
    rows[row][column] = value
    return rows


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f"])
@pytest.mark.parametrize("rows", [1, 30_000], ids=["lecture-ligne", "lecture-colonnes"])
def test_control_characters_refused_with_line_and_column(engine, tmp_path, char, rows):
    """Both readers (row by row for small or irregular files, by columns for large regular ones) refuse a control
    character, naming the line and the column; nothing is stored, by the dry run or the import."""
    body = _with(f"Tapage{char}nocturne") + [ROWS[0]] * (rows - 1)
    path = write_export(tmp_path / "ctrl.csv", body, encoding="utf-8")
    for dry_run in (True, False):
        with pytest.raises(InputFileError) as caught:
            pm.commit(engine, path, dry_run=dry_run)
        message = caught.value.message
        assert "ligne 3" in message and "« Nature de l'intervention »" in message, message
        assert f"{ord(char):#04x}" in message
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.pm_intervention")).scalar() == 0


def test_the_cli_answers_in_french_without_a_traceback_on_an_unforeseen_failure(
    engine, tmp_path, cli_env, monkeypatch
):
    path = write_export(tmp_path / "ok.csv")

    def broken(*args, **kwargs):
        raise KeyError("colonne")

    monkeypatch.setattr(pm, "commit", broken)
    result = run_cli("import", "pm", str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "KeyError('colonne')" not in result.output
    assert "erreur imprévue (KeyError)" in result.output and "n'enregistre rien" in result.output


def test_the_nul_upload_of_the_report_ends(engine, tmp_path, cli_env):
    """The 66-byte file that used to hang ``import pm --dry-run`` forever."""
    path = tmp_path / "nul.csv"
    path.write_bytes(b"date;heure;nature;adresse\n01/02/2023;10:00;Tapage\0nocturne;12 rue Grande\n")
    result = run_cli("import", "pm", str(path), "--dry-run")
    assert result.exit_code != 0
    assert "ligne 2, colonne « nature » : caractère de contrôle (code 0x00)" in result.output


ENGLISH = re.compile(r"\b(error|file|zip|zlib|codec|invalid|crc|compressed|field|traceback)\b", re.IGNORECASE)


def _refusal(engine, path) -> str:
    """The French message of the refusal of ``path``, the same for the dry run and the import."""
    messages = set()
    for dry_run in (True, False):
        with pytest.raises(InputFileError) as caught:
            pm.commit(engine, path, commune="04112", dry_run=dry_run)
        messages.add(caught.value.message)
    (message,) = messages
    assert not ENGLISH.search(message.replace(path.name, "")), message
    return message


def _export_bytes(tmp_path) -> bytes:
    return write_export(tmp_path / "source.csv", encoding="utf-8").read_bytes()


@pytest.mark.parametrize("damage", ["coupe", "bit", "entete"])
def test_a_damaged_gzip_is_refused_in_french(engine, tmp_path, damage):
    import gzip

    packed = bytearray(gzip.compress(_export_bytes(tmp_path)))
    if damage == "coupe":
        packed = packed[: len(packed) // 2]
    elif damage == "bit":
        packed[len(packed) // 2] ^= 0x10
    else:
        packed[3] = 0xFF  # reserved flags
    path = tmp_path / "export.csv.gz"
    path.write_bytes(bytes(packed))
    assert "le fichier compressé (gzip) est endommagé ou incomplet" in _refusal(engine, path)


def _workbook(rows) -> bytes:
    import io

    from openpyxl import Workbook

    from tests.pm_helpers import HEADER

    book = Workbook()
    book.active.append(HEADER)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("damage", ["coupe", "pas-un-zip", "feuille-absente", "xml", "controle", "crc"])
def test_a_damaged_workbook_is_refused_in_french(engine, tmp_path, damage):
    import io
    import zipfile

    data = _workbook(ROWS)
    if damage == "coupe":
        data = data[: len(data) - 300]
    elif damage == "pas-un-zip":
        data = _export_bytes(tmp_path)
    else:
        source = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
            for name in source.namelist():
                content = source.read(name)
                if name == "xl/worksheets/sheet1.xml":
                    if damage == "feuille-absente":
                        continue
                    if damage == "xml":
                        content = content.replace(b"</row>", b"</rw>", 2)
                    if damage == "controle":  # no XML holds one: the sheet cannot be parsed
                        content = content.replace(b"Tapage", b"Tap\x1bage")
                target.writestr(name, content)
        data = out.getvalue()
        if damage == "crc":  # a byte of the sheet changed after it was stored: its checksum no longer matches
            at = data.index(b"<sheetData>") + 20
            data = data[:at] + (b"x" if data[at : at + 1] != b"x" else b"y") + data[at + 1 :]
    path = tmp_path / "export.xlsx"
    path.write_bytes(data)
    assert "n'est pas un classeur Excel lisible" in _refusal(engine, path)


@pytest.mark.parametrize("where", ["valeur", "titre", "guillemet"])
def test_a_line_of_a_megabyte_is_refused_in_french(engine, tmp_path, where):
    text = _export_bytes(tmp_path).decode("utf-8-sig")
    lines = text.splitlines(keepends=True)
    if where == "valeur":
        lines.insert(2, "12/03/2024;10:00;" + "A" * (1 << 20) + "\r\n")
    elif where == "titre":
        lines.insert(0, "Extraction " + "B" * (1 << 20) + "\r\n")
    else:
        lines.insert(2, '12/03/2024;10:00;"Tapage' + "C" * (1 << 20) + "\r\n")
    path = tmp_path / "export.csv"
    path.write_text("".join(lines), encoding="utf-8")
    message = _refusal(engine, path)
    expected = {
        "valeur": "ligne 3 : valeur de plus de 131\u202f072 caractères",
        "titre": "pas de ligne d'en-tête complète dans les 64 premiers Ko",
        "guillemet": "valeur de plus de 131\u202f072 caractères (un guillemet jamais refermé, peut-être)",
    }[where]
    assert expected in message
