"""The strategy's action plan: loading the real plan, yearly entry, validation locked in the database, explicit
and logged reopening, the plenary table, and refusals of bad files."""

from __future__ import annotations

import hashlib
import io

import openpyxl
import pytest
import sqlalchemy as sa

from ingest.plan_actions import import_plan, import_values
from observatoire import audit
from observatoire.errors import ObservatoireError, PermissionDenied, ValidationFailed
from observatoire.strategy import entries, plan, plenary
from tests.conftest import run_cli

PLAN = "strategie/plan_actions_manosque_2024_2027.csv"
HEADER = "numero;axe;titre;statut;pilote;indicateurs\n"


def _plan(tmp_path, body: str, name: str = "plan_2024_2027.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM obs.{table}")).scalar_one()


def test_the_real_plan_loads_with_its_23_fiches_and_5_axes(cli_env, engine, shared_data):
    result = run_cli("import", "plan-actions", str(shared_data / PLAN))
    assert result.exit_code == 0, result.output
    frame = plan.indicators(engine)
    assert frame["fiche"].nunique() == 23
    assert sorted(frame["axis"].unique()) == [1, 2, 3, 4, 5]
    assert "18bis" in set(frame["fiche"])
    # ` | ` splits the indicators: fiche 13 has seven, and counts are told apart from assessments
    fiche13 = frame[frame["fiche"] == "13"]
    assert len(fiche13) == 7
    assert fiche13.iloc[0]["kind"] == "nombre"
    assert (
        frame[frame["label"].str.startswith("Perception des sensibilisations")].iloc[0]["kind"]
        == "qualitatif"
    )
    assert plan.strategies(engine)[0]["code"] == "2024-2027"


def test_several_strategies_coexist(engine, tmp_path):
    import_plan(
        engine, _plan(tmp_path, "1;1;Une action;nouvelle;Ville;Nombre de réunions\n", "p_2020_2023.csv")
    )
    import_plan(
        engine, _plan(tmp_path, "1;2;Une autre;reconduite;Ville;Nombre de réunions\n", "p_2024_2027.csv")
    )
    assert [s["code"] for s in plan.strategies(engine)] == ["2024-2027", "2020-2023"]
    assert plan.indicators(engine, "2020-2023").iloc[0]["title"] == "Une action"


@pytest.mark.parametrize(
    ("body", "line", "field", "words"),
    [
        ("1;1;A;nouvelle;V;Nombre\n;1;B;nouvelle;V;Nombre\n", 3, "numero", "manquant"),
        ("1;1;A;nouvelle;V;Nombre\n1;2;B;nouvelle;V;Nombre\n", 3, "numero", "double (déjà à la ligne 3)"),
        ("1;x;A;nouvelle;V;Nombre\n", 2, "axe", "axe"),
        ("1;1;A;ancienne;V;Nombre\n", 2, "statut", "nouvelle ou reconduite"),
    ],
)
def test_a_bad_plan_is_refused_whole_naming_line_and_field(engine, tmp_path, body, line, field, words):
    good = "7;2;Bonne fiche;nouvelle;Ville;Nombre de réunions\n"
    with pytest.raises(ValidationFailed) as caught:
        import_plan(engine, _plan(tmp_path, good + body))
    errors = caught.value.report.errors
    assert any(e.line == line + 1 and e.column == field and words in e.message for e in errors), errors
    assert "Rien n'a été enregistré" in caught.value.message
    assert _count(engine, "strategy") == 0 and _count(engine, "action_fiche") == 0


@pytest.fixture
def loaded(engine, tmp_path):
    import_plan(
        engine,
        _plan(
            tmp_path,
            "1;1;Prévention;nouvelle;Ville;Nombre d'actions | Perception des jeunes (questionnaire)\n"
            "2;3;Vidéo;reconduite;Ville;Mise en place du tableau de bord\n",
        ),
    )
    return engine


def test_a_value_of_the_wrong_type_is_refused_naming_line_and_field(loaded, tmp_path):
    path = tmp_path / "valeurs.csv"
    path.write_text(
        "fiche;indicateur;annee;valeur;source;avancement\n"
        "1;1;2025;12;Bilan;en cours\n"
        "1;2;2025;beaucoup;Bilan;en cours\n"
        "2;1;2025;peut-être;Bilan;réalisée\n"
        "2;1;l'an dernier;oui;Bilan;finie\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        import_values(loaded, path, strategy="2024-2027")
    errors = caught.value.report.errors
    assert [(e.line, e.column) for e in errors] == [
        (3, "valeur"),
        (4, "valeur"),
        (5, "annee"),
        (5, "avancement"),
    ]
    assert errors[2].value == "l'an dernier" and "quatre chiffres" in errors[2].message
    assert "appréciation attendue" in errors[0].message and "oui ou non" in errors[1].message
    assert _count(loaded, "action_entry") == 0  # the good line 2 was not kept either


def test_entry_validation_locks_in_the_database_and_reopening_is_explicit_and_logged(loaded):
    entries.enter(loaded, "1", 1, 2025, "12", "en cours", source="Bilan du pilote", user="coord")
    entries.enter(loaded, "1", 2, 2025, "Satisfaisant", "réalisée", user="coord")
    entries.enter(loaded, "2", 1, 2025, "oui", "réalisée", user="coord")
    entries.enter(
        loaded, "1", 1, 2025, "14", "en cours", source="Bilan corrigé", user="coord"
    )  # a draft changes
    with pytest.raises(ObservatoireError, match="nombre attendu"):
        entries.enter(loaded, "1", 1, 2025, "douze", "en cours", user="coord")
    with pytest.raises(PermissionDenied):
        entries.validate_year(loaded, 2025, user="coord", role="analyste")
    assert entries.validate_year(loaded, 2025, user="presidente", role="conseil") == 3

    # locked: through the product, and in the database itself whatever the client
    with pytest.raises(ObservatoireError, match="validée"):
        entries.enter(loaded, "1", 1, 2025, "15", "en cours", user="coord")
    for sql in (
        "UPDATE obs.action_entry SET number_value = 99",
        "UPDATE obs.action_entry SET state = 'brouillon'",
        "DELETE FROM obs.action_entry",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="obs:valeur_validee"), loaded.begin() as conn:
            conn.execute(sa.text(sql))
    assert entries.values(loaded)["valeur"].tolist() == ["14", "Satisfaisant", "Oui"]

    with pytest.raises(ObservatoireError, match="motivée"):
        entries.reopen(loaded, "1", 1, 2025, "", user="presidente", role="conseil")
    entries.reopen(loaded, "1", 1, 2025, "Erreur de saisie du pilote", user="presidente", role="conseil")
    entries.enter(loaded, "1", 1, 2025, "15", "réalisée", user="coord")
    values = entries.values(loaded)
    assert values.loc[values["position"].eq(1) & values["fiche"].eq("1"), "state"].item() == "brouillon"

    log = entries.log(loaded).iloc[::-1]
    assert log["action"].tolist() == [
        "saisie",
        "saisie",
        "saisie",
        "modification",
        "validation",
        "validation",
        "validation",
        "reouverture",
        "modification",
    ]
    reopening = log[log["action"] == "reouverture"].iloc[0]
    assert reopening["user_login"] == "presidente" and reopening["reason"] == "Erreur de saisie du pilote"
    last = log.iloc[-1]
    assert last["before"]["number_value"] == 14 and last["after"]["number_value"] == 15
    # the application role reads the log but can neither write nor erase it
    for sql in (
        "DELETE FROM obs.action_entry_log",
        "UPDATE obs.action_entry_log SET user_login = 'x'",
        "INSERT INTO obs.action_entry_log (entry_id, indicator_id, year, action) VALUES (1, 1, 2025, 'x')",
    ):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), loaded.begin() as conn:
            conn.execute(sa.text(sql))


def test_the_coordinator_loads_enters_validates_and_prints_the_plenary_table(
    cli_env, engine, shared_data, tmp_path
):
    assert run_cli("import", "plan-actions", str(shared_data / PLAN)).exit_code == 0
    result = run_cli("plan", "saisir", "13", "1", "2025", "42", "--avancement", "en cours", "--source", "PM")
    assert result.exit_code == 0, result.output
    assert run_cli("plan", "saisir", "13", "2", "2025", "x", "--avancement", "en cours").exit_code != 0
    assert run_cli("plan", "lier", "13", "7", "routes_accidents").exit_code == 0
    result = run_cli("plan", "valider", "2025")
    assert "1 valeur(s) de 2025 validée(s)" in result.output
    out = tmp_path / "suivi.xlsx"
    result = run_cli("plan", "tableau", "2025", "--sortie", str(out))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(io.BytesIO(out.read_bytes())).active
    assert "année 2025" in sheet["A1"].value
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    header = rows[0]
    fiche13 = [dict(zip(header, r, strict=False)) for r in rows[1:] if r[1] == "13"]
    assert fiche13[0]["Valeur 2025"] == "42" and fiche13[0]["Validation"] == "Validée"
    assert "Accidents corporels" in fiche13[6]["Tendance observée"]
    html_out = tmp_path / "suivi.html"
    assert run_cli("plan", "tableau", "2025", "--format", "html", "--sortie", str(html_out)).exit_code == 0
    page = html_out.read_text(encoding="utf-8")
    assert "Axe 3 – Insécurité routière et tranquillité publique" in page and "@page" in page
    pdf_out = tmp_path / "suivi.pdf"
    result = run_cli("plan", "tableau", "2025", "--format", "pdf", "--sortie", str(pdf_out))
    assert result.exit_code == 0 and pdf_out.read_bytes().startswith(b"%PDF")
    # the plenary table is traced like every export: the SHA-256 of each file in the audit log
    shas = {e["sha256"] for e in audit.list_entries(engine, action="export")["detail"]}
    assert hashlib.sha256(pdf_out.read_bytes()).hexdigest() in shas
    assert hashlib.sha256(out.read_bytes()).hexdigest() in shas
    assert len(plenary.plenary_table(engine, 2025, commune="04112")) == len(plan.indicators(engine))
