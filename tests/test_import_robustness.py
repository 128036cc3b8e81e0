"""Bad files end an import with a French message naming where the fault is, never a hang or a traceback."""

from __future__ import annotations

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
