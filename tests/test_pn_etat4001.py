"""État 4001 extracts: import, checks, re-import, evolution tables of the diagnostic."""

from __future__ import annotations

import csv
import json

import pytest
import sqlalchemy as sa

from ingest.etat4001 import import_etat4001
from observatoire.errors import InputFileError, ValidationFailed
from observatoire.police_nationale import evolution, indicators
from tests.conftest import run_cli

# Index → monthly count in 2019 and 2022 (every month the same, so yearly = 12 ×).
MONTHLY = {
    2019: {7: 10, 46: 1, 11: 2, 15: 1, 23: 3, 27: 5, 29: 2, 35: 1, 37: 4, 32: 2, 33: 6, 67: 8, 68: 3},
    2022: {7: 12, 46: 2, 11: 3, 15: 0, 23: 2, 27: 3, 29: 2, 35: 2, 37: 5, 32: 1, 33: 7, 67: 9, 68: 2},
}


def _extract(tmp_path, name="etat4001_csp_manosque.csv", years=MONTHLY):
    path = tmp_path / name
    with open(path, "w", encoding="cp1252", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(
            ["Année", "Mois", "N° index", "Libellé de l'index", "Faits constatés", "Circonscription"]
        )
        for year, counts in years.items():
            for month in range(1, 13):
                for index, n in counts.items():
                    writer.writerow(
                        [year, month, f"{index:02d}", indicators.ETAT4001_LABELS[index], n, "CSP Manosque"]
                    )
    return path


def test_import_and_evolution_table(engine, tmp_path):
    report = import_etat4001(engine, _extract(tmp_path), territory="COM:04112", user="test")
    assert report.inserted == 2 * 12 * 13 and report.errors_total == 0
    assert "Libellé de l'index" in report.warnings[0]
    frame = evolution.evolution_table(engine, "avip", "COM:04112", 2019, 2022).set_index("category")
    # Violences non crapuleuses = index 1, 3, 5, 6, 7, 51, 52, 73 → only 7 here.
    assert frame.loc["violences_non_crapuleuses", "count_from"] == 120
    assert frame.loc["violences_non_crapuleuses", "count_to"] == 144
    assert frame.loc["coups_blessures_volontaires", "difference"] == 24
    assert frame.loc["violences_crapuleuses", "count_from"] == 12 * (1 + 3)
    assert frame.loc["violences_sexuelles", "change_pct"] == pytest.approx(100.0)
    assert frame.loc["total", "count_from"] == 12 * (10 + 1 + 2 + 1 + 3)
    biens = evolution.evolution_table(engine, "biens", "COM:04112", 2019, 2022).set_index("category")
    assert biens.loc["cambriolages", "count_from"] == 12 * 7
    assert biens.loc["cambriolages_logements", "count_to"] == 36
    assert biens.loc["vols_automobile", "count_to"] == 12 * 7
    assert biens.loc["destructions_degradations", "difference"] == 0
    # "dont" lines are not added twice into the total.
    assert biens.loc["total", "count_from"] == 12 * (1 + 3 + 5 + 2 + 1 + 4 + 2 + 6 + 8 + 3)


def test_unknown_year_is_unknown_not_zero(engine, tmp_path):
    import_etat4001(engine, _extract(tmp_path, years={2022: MONTHLY[2022]}), territory="COM:04112")
    frame = evolution.evolution_table(engine, "avip", "COM:04112", 2019, 2022).set_index("category")
    assert frame.loc["total", "count_from"] is pd_na() and frame.loc["total", "months_from"] == 0
    assert frame.loc["total", "difference"] is pd_na()


def pd_na():
    import pandas as pd

    return pd.NA


def test_reimport_adds_nothing_and_changed_values_are_reported(engine, tmp_path):
    path = _extract(tmp_path)
    import_etat4001(engine, path, territory="COM:04112")
    again = import_etat4001(engine, path, territory="COM:04112")
    assert again.inserted == 0 and again.duplicates == 312
    revised = {2022: {**MONTHLY[2022], 7: 13}}
    third = import_etat4001(engine, _extract(tmp_path, "revise.csv", revised), territory="COM:04112")
    assert third.inserted == 0 and any("12 comptage(s)" in w for w in third.warnings)


def test_bad_rows_are_reported_with_their_line_and_nothing_is_kept(engine, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "annee;mois;index;nombre\n2022;1;7;10\n2022;13;7;1\n2022;2;96;1\n2022;3;108;1\n"
        "2022;4;7;-2\n2022;1;07;3\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as exc:
        import_etat4001(engine, path, territory="COM:04112")
    errors = {e.line: e for e in exc.value.report.errors}
    assert set(errors) == {3, 4, 5, 6, 7}
    assert "mois 13" in errors[3].message and "non utilisé" in errors[4].message
    assert "ligne 2" in errors[7].message
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.etat4001_count")).scalar() == 0


def test_unknown_layout_names_the_columns(engine, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("date;infraction;adresse\n01/01/2022;vol;1 rue X\n", encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        import_etat4001(engine, path, territory="COM:04112")
    assert "annee, mois, index" in exc.value.message and "date, infraction, adresse" in exc.value.message


def test_period_column_and_cli(cli_env, tmp_path):
    path = tmp_path / "periodes.csv"
    rows = (
        ["mois,index,nombre"]
        + [f"2019-{m:02d},27,2" for m in range(1, 13)]
        + [f"{m:02d}/2022,27,3" for m in range(1, 13)]
    )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = run_cli("import", "etat4001", str(path), "--territory", "04112", "--service", "CSP Manosque")
    assert result.exit_code == 0, result.output
    result = run_cli(
        "stats",
        "evolution",
        "--grouping",
        "biens",
        "--territory",
        "COM:04112",
        "--from",
        "2019",
        "--to",
        "2022",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    records = {r["category"]: r for r in json.loads(result.output)}
    assert set(next(iter(records.values()))) == set(evolution.COLUMNS)
    assert records["cambriolages_logements"]["count_from"] == 24
    assert records["cambriolages_logements"]["count_to"] == 36
    assert records["cambriolages_logements"]["change_pct"] == pytest.approx(50.0)
    assert records["vols_avec_violence"]["count_from"] == 0
    table = run_cli(
        "stats", "evolution", "--grouping", "biens", "--territory", "04112", "--from", "2019", "--to", "2022"
    )
    assert table.exit_code == 0 and "Cambriolages" in table.output and "+12" in table.output


def test_groupings_agree_with_the_real_local_grid(shared_data):
    """Lines of the Saint-Alban grid that the diagnostic's categories also define use the same index."""
    grid = {}
    with open(
        shared_data / "examples/observatoire_delinquance_saint_alban_juin2024_tableau.csv", encoding="utf-8"
    ) as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            if row["index_etat_4001"]:
                grid[row["indicateur"]] = tuple(int(x) for x in row["index_etat_4001"].split(","))
    cats = {c.id: c.indexes for g in indicators.GROUPINGS.values() for c in g.categories}
    assert grid["Cambriolages de résidences principales et secondaires"] == cats["cambriolages_logements"]
    assert grid["Menaces ou chantages"] == cats["menaces_violences"]
    assert (
        grid["Coups et blessures volontaires criminels et correctionnels n’ayant pas entraîné la mort"]
        == cats["coups_blessures_volontaires"]
    )
    assert set(grid["Vols à la roulotte et d’accessoires"]) <= set(cats["vols_automobile"])
    assert set(grid["Vols à main armée avec arme à feu"]) <= set(cats["vols_avec_violence"])
