"""A synthetic year in each BAAC layout (≤ 2018, 2019–2021, 2022+) gives exactly the counts it was built with."""

from __future__ import annotations

import random

import pandas as pd
import pytest
import sqlalchemy as sa

from ingest.baac import import_baac
from observatoire.errors import ValidationFailed
from observatoire.road.indicators import yearly_indicators
from sample_data.baac import synthetic_accident
from sample_data.baac_writer import file_names, layout_of, write_year

# Manosque, Ajaccio (2A004: dep 201 in the old layout), Fort-de-France (97209: dep 972 + com 009).
COMMUNES = (("04112", 43.83, 5.79), ("2A004", 41.92, 8.74), ("97209", 14.61, -61.07))


def build_year(year: int, seed: int = 7) -> list:
    rng = random.Random(seed + year)
    refs = [150_000_000, 1_000_000]
    accidents = []
    for n in range(60):
        insee, lat, lon = COMMUNES[n % 3]
        located = n % 5 != 0
        accidents.append(
            synthetic_accident(
                rng,
                year * 10**8 + n + 1,
                year,
                insee,
                lat + rng.uniform(-0.01, 0.01) if located else None,
                lon + rng.uniform(-0.01, 0.01) if located else None,
                refs,
            )
        )
    return accidents


def expected(accidents, insee: str) -> dict[str, int]:
    mine = [a for a in accidents if a.insee == insee]
    grav = [[u.gravity for u in a.users] for a in mine]
    return {
        "accidents": len(mine),
        "accidents_mortels": sum(2 in g for g in grav),
        "accidents_graves": sum(2 not in g and 3 in g for g in grav),
        "tues": sum(g.count(2) for g in grav),
        "hospitalises": sum(g.count(3) for g in grav),
        "blesses_legers": sum(g.count(4) for g in grav),
    }


@pytest.mark.parametrize("year", [2016, 2020, 2022, 2023])
def test_synthetic_year_gives_its_counts(engine, tmp_path, year):
    accidents = build_year(year)
    paths = write_year(tmp_path, year, accidents)
    assert [p.name for p in paths] == list(file_names(year, layout_of(year)).values())
    reports = import_baac(engine, [tmp_path], user="test")
    assert [r.errors_total for r in reports] == [0, 0, 0, 0]
    assert reports[0].inserted == 60
    assert reports[2].inserted == sum(len(a.vehicles) for a in accidents)
    assert reports[3].inserted == sum(len(a.users) for a in accidents)
    for insee, *_ in COMMUNES:
        row = yearly_indicators(engine, insee, years=(year, year)).iloc[0]
        assert not row["gravite_inconnue"]
        assert {k: int(row[k]) for k in expected(accidents, insee)} == expected(accidents, insee)
    with engine.connect() as conn:
        located = conn.execute(sa.text("SELECT count(geom), count(geom_l93) FROM obs.road_accident")).one()
        manosque = conn.execute(
            sa.text("SELECT ST_Y(geom), ST_X(geom) FROM obs.road_accident WHERE id = :i"),
            {"i": year * 10**8 + 2},
        ).one()
    assert tuple(located) == (48, 48)
    assert manosque[0] == pytest.approx(accidents[1].lat, abs=1e-5)
    assert manosque[1] == pytest.approx(accidents[1].lon, abs=1e-5)
    again = import_baac(engine, [tmp_path], user="test")
    assert sum(r.inserted for r in again) == 0


def test_year_without_users_has_unknown_gravity_until_they_come(engine, tmp_path):
    accidents = build_year(2020)
    write_year(tmp_path, 2020, accidents, tables=("caracteristiques", "lieux", "vehicules"))
    import_baac(engine, [tmp_path], user="test")
    row = yearly_indicators(engine, "COM:04112", years="2019-2020")
    assert list(row["annee"]) == [2019, 2020]
    assert not row.iloc[0]["donnees_chargees"] and pd.isna(row.iloc[0]["accidents"])
    assert row.iloc[1]["gravite_inconnue"] and pd.isna(row.iloc[1]["tues"]) and row.iloc[1]["accidents"] == 20
    users = write_year(tmp_path / "u", 2020, accidents, tables=("usagers",))
    import_baac(engine, users, user="test")
    row = yearly_indicators(engine, "COM:04112", years="2020").iloc[0]
    assert not row["gravite_inconnue"] and row["tues"] == expected(accidents, "04112")["tues"]


def test_territory_filter_on_a_full_year(engine, tmp_path):
    accidents = build_year(2022)
    write_year(tmp_path, 2022, accidents)
    reports = import_baac(engine, [tmp_path], territory="COM:04112", user="test")
    assert [r.inserted for r in reports][:2] == [20, 20]
    assert reports[0].extra["hors_territoire"] == 40
    row = yearly_indicators(engine, "04112", years="2022").iloc[0]
    assert not row["gravite_inconnue"] and int(row["tues"]) == expected(accidents, "04112")["tues"]
    # Only the commune was loaded: its département's figures are not complete and say so.
    dep = yearly_indicators(engine, "DEP:04", years="2022").iloc[0]
    assert not dep["couverture_complete"] and dep["gravite_inconnue"]


def test_bad_rows_refuse_the_file_with_french_reasons(engine, tmp_path):
    accidents = build_year(2021)
    (caract,) = write_year(tmp_path, 2021, accidents, tables=("caracteristiques",))
    lines = caract.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"2021"', '"2O21"', 1)
    lines[4] = lines[4].replace('"04112"', '"4112"', 1)
    caract.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        import_baac(engine, [caract], user="test")
    assert "Rien n'a été enregistré" in exc.value.message
    errors = {(e.line, e.message.split(" (")[0].split(" :")[0]) for e in exc.value.report.errors}
    assert errors == {(4, "date invalide"), (5, "code commune INSEE invalide")}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.road_accident")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM obs.road_file")).scalar() == 0
    # Accepting the valid rows keeps the 58 others.
    reports = import_baac(engine, [caract], user="test", accept_valid=True)
    assert reports[0].inserted == 58 and reports[0].rejected == 2
