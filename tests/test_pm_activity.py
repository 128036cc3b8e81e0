"""Activity figures on the demo exports, loaded the way ``make demo`` loads them; the nomenclature."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from observatoire.imports import admin as batch_admin
from observatoire.police_municipale import activity as pm_activity
from observatoire.police_municipale import catalogue as pm_catalogue

FILES = Path(__file__).resolve().parents[1] / "sample_data" / "files"


@pytest.fixture
def demo(engine):
    from sample_data import police_municipale, reference

    reference.load(engine, FILES, "demo")
    police_municipale.load(engine, FILES, "demo")
    return engine


def test_demo_generation_is_deterministic_and_small(tmp_path):
    from sample_data import police_municipale

    police_municipale.generate(tmp_path, 4112)
    produced = sorted((tmp_path / "police_municipale").iterdir())
    assert [p.name for p in produced] == sorted(p.name for p in (FILES / "police_municipale").iterdir())
    for p in produced:
        assert p.read_bytes() == (FILES / "police_municipale" / p.name).read_bytes(), p.name
    assert sum(p.stat().st_size for p in produced) < 2_000_000


def test_demo_load_reports_bad_rows_and_overlap_then_adds_nothing(demo):
    imports = batch_admin.list_imports(demo, source="pm")
    assert len(imports) == 4 and set(imports["status"]) == {"importe"}
    assert imports["rejected"].sum() >= 8
    overlap = imports.sort_values("id").iloc[-1]
    assert overlap["duplicates"] >= 450
    report = batch_admin.import_report(demo, int(overlap["id"]))
    assert report["extra"]["hors_commune"] >= 1
    from sample_data import police_municipale

    police_municipale.load(demo, FILES, "demo")
    again = batch_admin.list_imports(demo, source="pm")
    assert again.head(4)["inserted"].sum() == 0


def test_activity_queries(demo):
    types = pm_activity.by_type(demo)
    assert types["count"].sum() == pm_activity.summary(demo)["total"]
    assert "Non classé" in set(types["type"])  # « Chantier non déclaré », « Feu de broussailles »
    noise = types.loc[types["type_code"] == "nuisances_sonores", "count"].sum()
    assert noise > 500
    months = pm_activity.by_month(demo, date(2022, 1, 1), date(2022, 12, 31))
    assert len(months["month"].unique()) == 12
    heat = pm_activity.weekday_hour(demo, types=["nuisances_sonores"])
    assert len(heat) == 7 * 24
    nights = heat[heat["hour"].isin([22, 23])]["count"].sum()
    mornings = heat[heat["hour"].isin([9, 10])]["count"].sum()
    assert nights > 5 * mornings
    assert heat.iloc[0]["weekday_label"] == "lundi"
    iris = pm_activity.by_zone(demo, "iris")
    assert iris["count"].sum() == pm_activity.summary(demo)["total"]
    assert iris.iloc[-1]["name"] == "Hors zone ou non géolocalisé"
    qpv = pm_activity.by_zone(demo, "qpv")
    assert set(qpv["code"]) >= {"QPV:QN00402M", "QPV:QN00403M"}
    sectors = pm_activity.by_zone(demo, "secteur")
    assert "Centre" in set(sectors["code"])
    masked = pm_activity.by_type(demo, date(2022, 3, 7), date(2022, 3, 13), threshold=5)
    assert masked["masked"].any() and masked.loc[masked["masked"], "count"].isna().all()
    summary = pm_activity.summary(demo)
    assert summary["geocodees"] > 0 and summary["coordonnees"] > 0 and summary["non_geolocalisees"] > 0
    assert set(pm_activity.origins(demo)["origin"]) >= {"appel", "initiative", "demande"}


def _raw(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text("SELECT occurred_at, time_known, type_code, family_code FROM obs.pm_intervention"), conn
        )


def test_activity_counts_are_those_of_the_stored_rows(demo):
    """Each view counted straight from the rows, with the same filter: no row lost or counted twice by the
    queries' grouping."""
    raw = _raw(demo)
    start, end, families = date(2022, 1, 1), date(2023, 6, 30), ["tranquillite", "circulation"]
    kept = raw[
        (raw.occurred_at >= pd.Timestamp(start))
        & (raw.occurred_at < pd.Timestamp(end) + pd.Timedelta(days=1))
        & raw.family_code.isin(families)
    ]
    types = pm_activity.by_type(demo, start, end, families=families)
    assert (
        dict(zip(types.type_code, types["count"], strict=True)) == kept.groupby("type_code").size().to_dict()
    )
    months = pm_activity.by_month(demo, start, end, families=families)
    expected = kept.groupby([kept.occurred_at.dt.to_period("M").dt.start_time.dt.date, "family_code"]).size()
    assert {
        (m, f): c for m, f, c in zip(months.month, months.family_code, months["count"], strict=True)
    } == expected.to_dict()
    heat = pm_activity.weekday_hour(demo, start, end, families=families)
    timed = kept[kept.time_known]
    expected = timed.groupby([timed.occurred_at.dt.dayofweek + 1, timed.occurred_at.dt.hour]).size()
    assert {
        (d, h): c for d, h, c in zip(heat.weekday, heat.hour, heat["count"], strict=True) if c
    } == expected.to_dict()
    assert heat["count"].sum() == len(timed)


@pytest.mark.parametrize("level", ["iris", "qpv"])
def test_zone_counts_from_the_dashboard_copy_are_those_of_sql(demo, level):
    """The dashboard counts zones on its copy of the events in memory (as the map does), a command in SQL: the
    same figures, whatever the filter."""
    from observatoire.events import store as event_store

    filters = [
        {},
        {"start": date(2023, 1, 1), "end": date(2023, 12, 31), "types": ["nuisances_sonores"]},
        {"families": ["circulation"]},
    ]
    by_sql = [pm_activity.by_zone(demo, level, **f) for f in filters]
    event_store.enable(demo)
    try:
        in_memory = [pm_activity.by_zone(demo, level, **f) for f in filters]
    finally:
        event_store.disable(demo)
    for sql, memory in zip(by_sql, in_memory, strict=True):
        pd.testing.assert_frame_equal(sql, memory)
    assert by_sql[0]["count"].sum() == pm_activity.summary(demo)["total"]
    assert 0 < by_sql[1]["count"].sum() < by_sql[0]["count"].sum()


def test_nomenclature_editing(engine):
    pm_catalogue.save_type(engine, "essai_type", "Type d'essai", "autre", ["essai"], role="analyste")
    try:
        types = pm_catalogue.list_types(engine)
        assert "essai_type" in set(types["code"])
        pm_catalogue.save_type(engine, "essai_type", "Type d'essai", "prevention", ["essai"])
        assert (
            pm_catalogue.list_types(engine).set_index("code").loc["essai_type", "family_code"] == "prevention"
        )
        from observatoire.errors import PermissionDenied

        with pytest.raises(PermissionDenied):
            pm_catalogue.save_type(engine, "essai_type", "x", "autre", role="police_municipale")
    finally:
        pm_catalogue.delete_type(engine, "essai_type")
    with engine.connect() as conn:
        assert not conn.execute(
            sa.text("SELECT 1 FROM obs.pm_intervention_type WHERE code = 'essai_type'")
        ).scalar()
    assert list(pm_catalogue.list_families(engine)["code"])[0] == "tranquillite"


def test_nomenclature_changes_are_audited(engine):
    import sqlalchemy as sa

    from observatoire.police_municipale import catalogue as pm_catalogue

    families = pm_catalogue.list_families(engine)
    pm_catalogue.save_type(
        engine,
        "essai_type",
        "Type d'essai",
        families.code.iloc[0],
        ["essai"],
        role="analyste",
        user="analyste1",
    )
    pm_catalogue.learn_label(engine, "Libellé inconnu", "essai_type", role="analyste", user="analyste1")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT user_login, target FROM obs.audit_log WHERE action = 'nomenclature_modifiee' "
                "ORDER BY id"
            )
        ).all()
    assert [tuple(r) for r in rows] == [("analyste1", "type"), ("analyste1", "libelle")]
