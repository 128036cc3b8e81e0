"""Activity figures on the demo exports, loaded the way ``make demo`` loads them; the nomenclature."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from observatoire import batch_admin, pm_activity, pm_catalogue

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


def test_nomenclature_editing(engine):
    pm_catalogue.save_type(engine, "essai_type", "Type d'essai", "autre", ["essai"], role="analyste")
    try:
        types = pm_catalogue.list_types(engine)
        assert "essai_type" in set(types["code"])
        pm_catalogue.save_type(engine, "essai_type", "Type d'essai", "prevention", ["essai"])
        assert pm_catalogue.list_types(engine).set_index("code").loc["essai_type", "family_code"] == "prevention"
        from observatoire.errors import PermissionDenied

        with pytest.raises(PermissionDenied):
            pm_catalogue.save_type(engine, "essai_type", "x", "autre", role="police_municipale")
    finally:
        pm_catalogue.delete_type(engine, "essai_type")
    with engine.connect() as conn:
        assert not conn.execute(sa.text("SELECT 1 FROM obs.pm_intervention_type WHERE code = 'essai_type'")).scalar()
    assert list(pm_catalogue.list_families(engine)["code"])[0] == "tranquillite"


def test_nomenclature_changes_are_audited(engine):
    import sqlalchemy as sa

    from observatoire import pm_catalogue

    families = pm_catalogue.list_families(engine)
    pm_catalogue.save_type(engine, "essai_type", "Type d'essai", families.code.iloc[0], ["essai"],
                           role="analyste", user="analyste1")
    pm_catalogue.learn_label(engine, "Libellé inconnu", "essai_type", role="analyste", user="analyste1")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT user_login, target FROM obs.audit_log WHERE action = 'nomenclature_modifiee' "
                                    "ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("analyste1", "type"), ("analyste1", "libelle")]
