"""Importing police municipale exports: dedup, overlaps, all-or-nothing, accept-valid, profiles, labels,
undo, dry runs and the CLI."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from ingest import police_municipale as pm
from ingest import profiles
from ingest.tabular import ColumnMapping
from observatoire.errors import InputFileError, ValidationFailed
from tests.conftest import run_cli
from tests.pm_helpers import HEADER, ROWS, write_export


def _count(engine, where: str = "true") -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM obs.pm_intervention WHERE {where}")).scalar()


def test_same_file_twice_adds_nothing(engine, tmp_path):
    f = write_export(tmp_path / "export.csv")
    first = pm.commit(engine, f, commune="04112")
    assert (first.inserted, first.duplicates) == (4, 0)
    second = pm.commit(engine, f, commune="04112")
    assert (second.inserted, second.duplicates) == (0, 4)
    assert any("déjà été importé" in w for w in second.warnings)
    assert _count(engine) == 4


def test_overlapping_export_adds_only_new_rows(engine, tmp_path):
    pm.commit(engine, write_export(tmp_path / "mars.csv", rows=ROWS[:3]), commune="04112")
    extra = ["20/03/2024", "23:50", "Rodéo urbain", "bd Casimir Pelloutier", "", "", "", "Appel", "", "MC-5"]
    report = pm.commit(
        engine, write_export(tmp_path / "mars_avril.csv", rows=[*ROWS[1:], extra]), commune="04112"
    )
    assert (report.inserted, report.duplicates) == (2, 2)
    assert _count(engine) == 5


def test_overlap_without_record_ids_uses_date_type_and_place(engine, tmp_path):
    header = HEADER[:-1]
    rows = [r[:-1] for r in ROWS]
    pm.commit(engine, write_export(tmp_path / "a.csv", rows=rows[:2], header=header), commune="04112")
    # same facts re-exported with different spellings of the same address and label case
    again = [list(rows[0]), *rows[2:]]
    again[0][2] = "TAPAGE NOCTURNE"
    again[0][3] = "12, Avenue Jean Giono"
    report = pm.commit(engine, write_export(tmp_path / "b.csv", rows=again, header=header), commune="04112")
    assert (report.inserted, report.duplicates) == (2, 1)
    assert _count(engine) == 4


BAD = ["31/13/2024", "10:00", "Tapage", "rue Grande", "", "", "", "", "", "MC-9"]


def test_all_or_nothing_by_default(engine, tmp_path):
    f = write_export(tmp_path / "bad.csv", rows=[*ROWS, BAD])
    with pytest.raises(ValidationFailed) as exc:
        pm.commit(engine, f, commune="04112")
    err = exc.value.report.errors[0]
    assert (err.line, err.column, err.value) == (6, "Date", "31/13/2024")
    assert _count(engine) == 0


def test_accept_valid_keeps_valid_rows_and_records_rejected_ones(engine, tmp_path):
    f = write_export(tmp_path / "bad.csv", rows=[*ROWS, BAD])
    report = pm.commit(engine, f, accept_valid=True, commune="04112")
    assert (report.rows_read, report.inserted, report.rejected) == (5, 4, 1)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT rejected, status, report FROM obs.import_batch")).one()
    assert stored.rejected == 1 and stored.status == "importe"
    assert stored.report["errors"][0]["line"] == 6


def test_dry_run_and_validate_store_nothing(engine, tmp_path):
    f = write_export(tmp_path / "bad.csv", rows=[*ROWS, BAD])
    report = pm.validate(engine, f, commune="04112")
    assert report.errors_total == 1 and report.extra["refuse_sans_acceptation"]
    assert report.inserted == 4  # what a commit with accept-valid would add
    assert _count(engine) == 0
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.import_batch")).scalar() == 0


def test_a_dry_run_says_what_would_be_added_and_names_no_batch(engine, tmp_path, cli_env):
    f = write_export(tmp_path / "bad.csv", rows=[*ROWS, BAD])
    report = pm.commit(engine, f, dry_run=True, accept_valid=True, commune="04112")
    assert report.batch_id is None and report.status == "essai"
    assert report.summary() == (
        "bad.csv (essai, rien n'est enregistré) : 5 lignes lues, 4 seraient ajoutées, 0 déjà présentes, 1 rejetées"
    )
    result = run_cli("import", "pm", str(f), "--dry-run", "--accept-valid")
    assert result.exit_code == 0, result.output
    assert "4 seraient ajoutées" in result.output
    assert "insérées" not in result.output and "lot n°" not in result.output
    result = run_cli("import", "pm", str(f), "--dry-run")  # refused: still nothing stored, no batch named
    assert result.exit_code == 1 and "lot n°" not in result.output
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.import_batch")).scalar() == 0
        assert (
            conn.execute(sa.text("SELECT count(*) FROM obs.audit_log WHERE action LIKE 'import%'")).scalar()
            == 0
        )
    result = run_cli("import", "pm", str(f), "--accept-valid")
    assert "4 insérées" in result.output and "(lot n° " in result.output


def test_unknown_labels_are_kept_listed_with_a_suggestion_and_learnt(engine, tmp_path):
    from observatoire.police_municipale import catalogue as pm_catalogue

    rows = [list(r) for r in ROWS]
    rows[0][2] = "Nuisance sonor"  # a typo
    rows[1][2] = "Chantier non déclaré"
    report = pm.commit(engine, write_export(tmp_path / "labels.csv", rows=rows), commune="04112")
    unknown = {u["libelle"]: u for u in report.extra["libelles_inconnus"]}
    assert set(unknown) == {"Nuisance sonor", "Chantier non déclaré"}
    assert unknown["Nuisance sonor"]["suggestion"] == "Nuisances sonores"
    assert unknown["Chantier non déclaré"]["suggestion"] is None  # nothing close: no misleading guess
    assert any("Nuisance sonor" in w for w in report.warnings)
    assert _count(engine, "type_code IS NULL") == 2  # kept, not dropped
    changed = pm_catalogue.learn_label(engine, "Nuisance sonor", "nuisances_sonores", user="analyste")
    assert changed == 1
    assert _count(engine, "type_code = 'nuisances_sonores' AND family_code = 'tranquillite'") == 1
    rows[0][9] = "MC-10"
    report = pm.commit(engine, write_export(tmp_path / "labels2.csv", rows=rows[:1]), commune="04112")
    assert "libelles_inconnus" not in report.extra


ODD_HEADER = ["Quand", "Heure", "Quoi", "Où", "Réf"]
ODD_ROWS = [
    ["12/03/2024", "22:15", "Tapage nocturne", "rue Grande", "X1"],
    ["13/03/2024", "08:05", "Stationnement gênant", "place du Terreau", "X2"],
]


def test_mapping_profile_saved_and_reused(engine, tmp_path, cli_env):
    f = write_export(tmp_path / "logiciel.csv", rows=ODD_ROWS, header=ODD_HEADER)
    with pytest.raises(InputFileError) as exc:
        pm.commit(engine, f, commune="04112")
    assert "« Date (ou date et heure) »" in exc.value.message and "Quand" in exc.value.message
    mapping = ColumnMapping(
        {"date": "Quand", "time": "Heure", "label": "Quoi", "address": "Où", "record_id": "Réf"}
    )
    profiles.save_profile(engine, "pm", "Logiciel X", mapping, user="agent")
    listed = profiles.list_profiles(engine, "pm")
    assert listed["name"].tolist() == ["Logiciel X"] and listed["columns"][0]["label"] == "Quoi"
    assert profiles.load_profile(engine, "pm", "Logiciel X") == mapping
    report = pm.commit(engine, f, mapping="Logiciel X", commune="04112")
    assert report.inserted == 2
    f2 = write_export(tmp_path / "logiciel2.csv", rows=[[*ODD_ROWS[0][:4], "X3"]], header=ODD_HEADER)
    result = run_cli("import", "pm", str(f2), "--mapping", "Logiciel X")
    assert result.exit_code == 0, result.output
    assert _count(engine) == 3
    result = run_cli("import", "pm", str(f2), "--mapping", "Inconnu")
    assert result.exit_code == 1 and "Logiciel X" in result.output


def test_cli_import_dry_run_json_and_accept_valid(engine, tmp_path, cli_env):
    f = write_export(tmp_path / "bad.csv", rows=[*ROWS, BAD])
    result = run_cli("import", "pm", str(f), "--format", "json")
    assert result.exit_code == 1
    assert "31/13/2024" in result.output and "Rien n'a été enregistré" in result.output
    result = run_cli("import", "pm", str(f), "--dry-run", "--accept-valid", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "essai"
    assert _count(engine) == 0
    result = run_cli("import", "pm", str(f), "--accept-valid")
    assert result.exit_code == 0 and "4 insérées" in result.output and "1 rejetées" in result.output


def test_imports_list_and_undo(engine, tmp_path, cli_env):
    first = pm.commit(engine, write_export(tmp_path / "a.csv", rows=ROWS[:2]), commune="04112")
    second = pm.commit(engine, write_export(tmp_path / "b.csv", rows=ROWS[2:]), commune="04112")
    result = run_cli("imports", "list")
    assert result.exit_code == 0 and "a.csv" in result.output and "importé" in result.output
    result = run_cli("imports", "undo", str(second.batch_id))
    assert result.exit_code == 0 and "2 ligne(s) supprimée(s)" in result.output
    assert _count(engine) == 2
    with engine.connect() as conn:
        status = dict(conn.execute(sa.text("SELECT id, status FROM obs.import_batch")).all())
        audit = conn.execute(
            sa.text("SELECT batch_id, detail FROM obs.audit_log WHERE action = 'import_annule'")
        ).one()
    assert status == {first.batch_id: "importe", second.batch_id: "annule"}
    assert audit.batch_id == second.batch_id and audit.detail["lignes_supprimees"] == 2
    result = run_cli("imports", "undo", str(second.batch_id))
    assert result.exit_code == 1 and "annulé" in result.output
    result = run_cli("imports", "list", "--format", "json")
    assert json.loads(result.output)[0]["status"] == "annule"
    # the undone rows can come back
    again = pm.commit(engine, write_export(tmp_path / "b.csv", rows=ROWS[2:]), commune="04112")
    assert again.inserted == 2


def test_undo_refuses_a_role_without_the_right(engine, tmp_path):
    from observatoire.errors import PermissionDenied
    from observatoire.imports.admin import undo_import

    report = pm.commit(engine, write_export(tmp_path / "a.csv"), commune="04112")
    with pytest.raises(PermissionDenied):
        undo_import(engine, report.batch_id, user="agent", role="police_municipale")
    assert undo_import(engine, report.batch_id, user="chef", role="analyste") == 4


def test_progress_is_reported(engine, tmp_path):
    rows = [
        [f"{1 + i % 28:02d}/03/2024", "10:00", "Tapage", "", "5,78", "43,83", "", "", "", f"P{i}"]
        for i in range(120)
    ]
    seen = []
    pm.commit(
        engine,
        write_export(tmp_path / "p.csv", rows=rows),
        commune="04112",
        progress=lambda stage, share: seen.append((stage, share)),
    )
    assert {"validation", "ecriture"} <= {s for s, _ in seen}
    assert seen[-1] == ("ecriture", 1.0)


@pytest.mark.parametrize("by_rows", [False, True])
def test_a_file_of_bad_rows_only_keeps_nothing_and_says_why(engine, tmp_path, monkeypatch, by_rows):
    from ingest import columnar

    if by_rows:
        monkeypatch.setattr(columnar, "read_regular", lambda table: None)
    rows = [
        ["31/13/2024", "10:00", "Tapage", "rue Grande", "", "", "", "", "", "MC-1"],
        ["", "10:00", "Tapage", "rue Grande", "", "", "", "", "", "MC-2"],
    ]
    report = pm.commit(
        engine, write_export(tmp_path / "bad.csv", rows=rows), accept_valid=True, commune="04112"
    )
    assert (report.rows_read, report.rejected, report.inserted, report.duplicates) == (2, 2, 0, 0)
    assert [e.line for e in report.errors] == [2, 3]
    assert _count(engine, "true") == 0


@pytest.mark.parametrize("by_rows", [False, True])
def test_an_export_without_rows_is_refused_with_a_reason(engine, tmp_path, monkeypatch, by_rows):
    """An export of the wrong period or filter holds only its header: the officer is told, no empty batch is
    recorded as if something had been imported."""
    from ingest import columnar

    if by_rows:
        monkeypatch.setattr(columnar, "read_regular", lambda table: None)
    empty = write_export(tmp_path / "vide.csv", rows=[[""] * len(HEADER)])  # the header, then a blank line
    for dry_run in (True, False):
        with pytest.raises(InputFileError, match="aucune ligne sous l'en-tête"):
            pm.commit(engine, empty, dry_run=dry_run, commune="04112")
    with engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT count(*) FROM obs.import_batch WHERE source = 'pm'")).scalar() == 0
        )
