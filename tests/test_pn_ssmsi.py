"""SSMSI bases: the real files import, the engine rebuilds the published rates, editions stay apart."""

from __future__ import annotations

import gzip
import json

import pytest
import sqlalchemy as sa

from ingest.ssmsi import import_ssmsi
from observatoire.errors import InputFileError, ValidationFailed
from observatoire.police_nationale import rates
from tests.conftest import run_cli

DEP_2023 = "ssmsi/donnee-dep-data.gouv-2022-geographie2023-produit-le2023-07-17.csv"
DEP_2026 = "ssmsi/ssmsi_dep_2016_2025_edition2026_from_json.csv.gz"
PIVOT = "ssmsi/communes_paca_pivot_faits_2016_2018.csv"
APPLI = "ssmsi/ssmsi_appli_territoriale_cambriolages_communes_paca_2016_2021.csv"


def _published_rates(path) -> dict[tuple[str, str, int], float]:
    """(département, label, year) → tauxpourmille, read straight from the file, independently of the importer."""
    out = {}
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    for line in lines[1:]:
        classe, annee, dep, _, _, _, _, _, _, _, taux = line.split(";")
        out[(dep.zfill(2), classe, 2000 + int(annee))] = float(taux.replace(",", "."))
    return out


def test_engine_rates_equal_the_9898_published_rates(engine, shared_data):
    path = shared_data / DEP_2023
    report = import_ssmsi(engine, path, user="test")
    assert report.rows_read == 9898 and report.inserted == 9898 and report.errors_total == 0
    assert report.extra["edition"] == "2023-07-17"

    from observatoire.police_nationale import indicators

    frame = rates.level_values(engine, "2023-07-17", "departement")
    assert len(frame) == 9898
    published = _published_rates(path)
    checked = 0
    for row in frame.itertuples():
        label = indicators.BY_ID[row.indicator_id].label
        expected = published[(row.territory_code[4:], label, row.year)]
        assert row.rate_per_1000 == pytest.approx(expected, rel=1e-7, abs=1e-9), row
        checked += 1
    assert checked == 9898


def test_reimport_adds_nothing(engine, shared_data):
    import_ssmsi(engine, shared_data / DEP_2023)
    again = import_ssmsi(engine, shared_data / DEP_2023)
    assert again.inserted == 0 and again.duplicates == 9898
    assert any("déjà été importé" in w for w in again.warnings)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.pn_stat")).scalar() == 9898
        assert conn.execute(sa.text("SELECT count(*) FROM obs.pn_denominator")).scalar() == 707


def test_denominators_and_vintages_are_kept(engine, shared_data):
    import_ssmsi(engine, shared_data / DEP_2023)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT inhabitants, inhabitants_vintage, dwellings, dwellings_vintage "
                "FROM obs.pn_denominator WHERE territory_code = 'DEP:04' AND year = 2022"
            )
        ).one()
        mayotte = conn.execute(
            sa.text(
                "SELECT inhabitants_vintage FROM obs.pn_denominator "
                "WHERE territory_code = 'DEP:976' AND year = 2022"
            )
        ).scalar()
        name = conn.execute(sa.text("SELECT name FROM obs.territory WHERE code = 'DEP:04'")).scalar()
    assert row == (165451, 2020, pytest.approx(130499.7443), 2020)
    assert mayotte == 2017
    assert name == "Alpes-de-Haute-Provence"


def test_region_and_france_are_sums_of_departements(engine, shared_data):
    import_ssmsi(engine, shared_data / DEP_2023)
    frame = rates.compare(engine, "cambriolages_logement", "DEP:04", range(2016, 2023))
    paca = frame[(frame.level == "region") & (frame.year == 2022)].iloc[0]
    with engine.connect() as conn:
        parts = conn.execute(
            sa.text("""
            SELECT sum(s.count), sum(d.dwellings) FROM obs.pn_stat s JOIN obs.pn_denominator d
            USING (edition, territory_code, year) WHERE s.indicator_id = 'cambriolages_logement' AND s.year = 2022
              AND s.territory_code IN ('DEP:04','DEP:05','DEP:06','DEP:13','DEP:83','DEP:84')""")
        ).one()
    assert paca["count"] == parts[0]
    assert paca.rate_per_1000 == pytest.approx(parts[0] / parts[1] * 1000)
    assert paca.denominator_kind == "logements" and paca.denominator_vintage == "2020"
    assert paca.ci_low < paca.rate_per_1000 < paca.ci_high
    france = frame[(frame.level == "france") & (frame.year == 2016)].iloc[0]
    assert france.members == 101 and france.members_published == 101
    assert france.denominator_vintage == "2016–2017"  # Mayotte is counted on its 2017 census
    metro = rates.compare(engine, "cbv", "DEP:04", [2022], france="metropole")
    metro_fr = metro[metro.level == "france"].iloc[0]
    assert metro_fr.members == 96 and metro_fr.territory_name == "France métropolitaine"
    # Mayotte's vintage (2017) shows in France entière's 2022 denominators, not in the métropole ones.
    entiere = rates.compare(engine, "cbv", "DEP:04", [2022])
    assert entiere[entiere.level == "france"].iloc[0].denominator_vintage == "2017–2020"
    assert metro_fr.denominator_vintage == "2020"


def test_cli_compares_dep04_with_paca_and_france_for_every_indicator(cli_env, engine, shared_data):
    result = run_cli("import", "ssmsi", str(shared_data / DEP_2023))
    assert result.exit_code == 0, result.output
    result = run_cli(
        "stats",
        "compare",
        "--indicator",
        "tous",
        "--territory",
        "DEP:04",
        "--years",
        "2016-2022",
        "--levels",
        "departement,region,france",
        "--edition",
        "2023-07-17",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert len(records) == 14 * 7 * 3
    assert set(records[0]) == set(rates.JSON_KEYS)
    assert {"coverage", "members", "rate_source", "edition"} <= set(records[0])
    assert {r["territory"] for r in records} == {"DEP:04", "REG:93", "FRA"}
    cbv = {(r["territory"], r["year"]): r for r in records if r["indicator"] == "cbv"}
    assert cbv[("DEP:04", 2022)]["count"] == 831
    assert cbv[("DEP:04", 2022)]["rate_per_1000"] == pytest.approx(5.0226351)
    assert cbv[("DEP:04", 2022)]["edition"] == "2023-07-17"
    assert all(r["published"] and r["rate_per_1000"] is not None for r in records)
    table = run_cli(
        "stats",
        "compare",
        "--indicator",
        "Cambriolages de logement",
        "--territory",
        "04",
        "--years",
        "2021-2022",
        "--edition",
        "2023-07-17",
    )
    assert table.exit_code == 0, table.output
    assert "Provence-Alpes-Côte d'Azur" in table.output and "logements" in table.output


def test_2026_edition_is_kept_apart(engine, shared_data):
    import_ssmsi(engine, shared_data / DEP_2023)
    report = import_ssmsi(engine, shared_data / DEP_2026)
    assert report.extra["edition"] == "2026" and report.inserted == 18180
    eds = rates.editions(engine)
    assert list(eds.code) == ["2026", "2023-07-17"]
    newest = rates.compare(engine, "violences_sexuelles", "DEP:04", [2022], levels=["departement"])
    older = rates.compare(
        engine, "violences_sexuelles", "DEP:04", [2022], levels=["departement"], edition="2023-07-17"
    )
    assert newest.iloc[0].edition == "2026" and older.iloc[0].edition == "2023-07-17"
    assert newest.iloc[0]["count"] == 264
    assert newest.iloc[0]["count"] != older.iloc[0]["count"]  # revised between editions
    # Dwellings absent from the re-export: recovered from count ÷ published rate, flagged.
    cambr = rates.compare(engine, "cambriolages_logement", "DEP:04", [2025], levels=["departement"]).iloc[0]
    assert cambr.rate_per_1000 == pytest.approx(3.3647649, rel=1e-6)
    with engine.connect() as conn:
        assert conn.execute(
            sa.text(
                "SELECT bool_and(dwellings_derived) FROM obs.pn_denominator "
                "WHERE edition = '2026' AND dwellings IS NOT NULL"
            )
        ).scalar()
    # A 2023-nomenclature indicator does not exist in the 2026 edition: the default edition falls back.
    cbv = rates.compare(engine, "cbv", "DEP:04", [2022], levels=["departement"])
    assert cbv.iloc[0].edition == "2023-07-17"


def test_communal_pivot_and_size_group(engine, shared_data):
    report = import_ssmsi(engine, shared_data / PIVOT, edition="2024-07-05")
    assert report.rows_read == 963 and report.inserted == 963 * 14
    assert "somme_ligne" in report.warnings[0]
    frame = rates.compare(engine, "cbv", "04112", [2016, 2017, 2018], levels=["commune", "groupe"])
    manosque = frame[frame.level == "commune"].set_index("year")
    assert manosque.loc[2016, "count"] == 118
    assert manosque.loc[2016, "rate_per_1000"] == pytest.approx(118 / 21868 * 1000)
    group = frame[frame.level == "groupe"].iloc[0]
    assert group.territory == "GRP:communes-20000-50000"
    assert group.members >= 10 and group.members_published == group.members
    # No dwellings in the pivot: the burglary rate stays unknown rather than being made up.
    cambr = rates.compare(engine, "cambriolages_logement", "04112", [2016], levels=["commune"]).iloc[0]
    assert cambr["count"] == 93 and cambr.denominator is None and cambr.rate_per_1000 is None


def test_appli_territoriale_rates_only(engine, shared_data):
    report = import_ssmsi(engine, shared_data / APPLI)
    assert report.inserted == 2893 and report.extra["edition"] == "appli-territoriale"
    row = rates.compare(engine, "cambriolages_logement", "04112", [2019], levels=["commune"]).iloc[0]
    assert row.rate_per_1000 == pytest.approx(12.27, abs=0.01)
    assert row["count"] is pd_na() and row.rate_source.startswith("publié")


def pd_na():
    import pandas as pd

    return pd.NA


# --- bad inputs ---------------------------------------------------------------------------------------


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


HEADER = (
    "classe;annee;Code.département;Code.région;unité.de.compte;millPOP;millLOG;faits;POP;LOG;tauxpourmille\n"
)


def test_unknown_layout_lists_expected_and_found_columns(engine, tmp_path):
    path = _write(tmp_path, "x-produit-le2023-07-17.csv", "foo;bar;annee\n1;2;3\n")
    with pytest.raises(InputFileError) as exc:
        import_ssmsi(engine, path)
    assert "Colonnes attendues" in exc.value.message and "foo, bar, annee" in exc.value.message


def test_unknown_indicator_and_bad_codes_are_reported_and_nothing_is_kept(engine, tmp_path):
    path = _write(
        tmp_path,
        "d-produit-le2023-07-17.csv",
        HEADER
        + "Coups et blessures volontaires;22;4;93;victime;20;20;831;165451;130499,7443;5,02\n"
        + "Vols de bicyclettes;22;4;93;victime;20;20;10;165451;130499,7443;0,06\n"
        + "Coups et blessures volontaires;22;99;93;victime;20;20;10;1000;500;10\n"
        + "Coups et blessures volontaires;2x;5;93;victime;20;20;dix;1000;500;10\n",
    )
    with pytest.raises(ValidationFailed) as exc:
        import_ssmsi(engine, path)
    errors = {(e.line, e.column): e for e in exc.value.report.errors}
    assert errors[(3, "indicateur")].value == "Vols de bicyclettes"
    assert errors[(4, "territoire")].value == "99"
    assert (5, "annee") in errors and (5, "faits") in errors
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.pn_stat")).scalar() == 0
        assert conn.execute(sa.text("SELECT status FROM obs.import_batch")).scalar() == "echec"


def test_accept_valid_keeps_the_good_rows(engine, tmp_path):
    path = _write(
        tmp_path,
        "d-produit-le2023-07-17.csv",
        HEADER
        + "Coups et blessures volontaires;22;4;93;victime;20;20;831;165451;130499,7443;5,02\n"
        + "Coups et blessures volontaires;22;99;93;victime;20;20;10;1000;500;10\n",
    )
    report = import_ssmsi(engine, path, accept_valid=True)
    assert report.inserted == 1 and report.rejected == 1


def test_ragged_line_is_named(engine, tmp_path):
    path = _write(
        tmp_path,
        "d-produit-le2023-07-17.csv",
        HEADER
        + "Coups et blessures volontaires;22;4;93;victime;20;20;831;165451;130499,7443;5,02\n"
        + "Coups et blessures volontaires;22;5;93\n",
    )
    with pytest.raises(InputFileError) as exc:
        import_ssmsi(engine, path)
    assert "ligne 3" in exc.value.message


def test_missing_edition_is_asked_for(engine, tmp_path):
    path = _write(
        tmp_path, "base.csv", HEADER + "Coups et blessures volontaires;22;4;93;victime;20;20;1;1;1;1\n"
    )
    with pytest.raises(InputFileError, match="--edition"):
        import_ssmsi(engine, path)


def test_2024_communal_layout_with_unpublished_values_and_parquet(engine, tmp_path):
    pytest.importorskip("pyarrow")
    header = (
        "CODGEO_2024;annee;classe;unité.de.compte;valeur.publiée;faits;tauxpourmille;complementinfoval;"
        "complementinfotaux;POP;millPOP;LOG;millLOG\n"
    )
    body = (
        "04112;23;Violences sexuelles;victime;diff;40;1,74;NA;NA;23018;21;11900,5;21\n"
        "04006;23;Violences sexuelles;victime;ndiff;NA;NA;0,8;1,1;747;21;400;21\n"
        "4070;23;Violences sexuelles;victime;diff;30;1,9;NA;NA;16000;21;8000;21\n"
    )
    path = tmp_path / "donnee-data.gouv-2023-geographie2024-produit-le2024-07-05.csv.gz"
    path.write_bytes(gzip.compress((header + body).encode("utf-8")))
    report = import_ssmsi(engine, path)
    assert report.inserted == 3 and report.extra["non_diffusees"] == 1
    frame = rates.compare(engine, "violences_sexuelles", "04006", [2023], levels=["commune"])
    assert frame.iloc[0].published is False or not frame.iloc[0].published
    assert frame.iloc[0]["count"] is pd_na() and frame.iloc[0].rate_per_1000 is None
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT complement_value FROM obs.pn_stat WHERE territory_code = 'COM:04006'")
            ).scalar()
            == 0.8
        )
        assert (
            conn.execute(
                sa.text("SELECT count(*) FROM obs.pn_stat WHERE territory_code = 'COM:04070'")
            ).scalar()
            == 1
        )

    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = header.strip().split(";")
    rows = [line.split(";") for line in body.strip().splitlines()]
    table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
    pq_path = tmp_path / "donnee-comm-data.gouv-parquet-2024-produit-le2024-08-01.parquet"
    pq.write_table(table, pq_path)
    again = import_ssmsi(engine, pq_path)
    assert again.extra["edition"] == "2024-08-01" and again.inserted == 3
