"""Demo police nationale facts: deterministic and small, loaded through the product's import, geocoded
against the demo address file, with the concentrations a real extract shows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from observatoire.events import hotspots, spatial
from observatoire.events import queries as event_queries
from observatoire.events.filter import EventFilter
from observatoire.imports import admin as batch_admin
from observatoire.police_nationale import catalogue as pn_catalogue
from sample_data import pn_faits

FILES = Path(__file__).resolve().parents[1] / "sample_data" / "files"


def test_generation_is_deterministic_and_matches_the_committed_files(tmp_path):
    pn_faits.generate(tmp_path, 4112)
    for name in pn_faits.FILES:
        assert (tmp_path / pn_faits.SUBDIR / name).read_bytes() == (
            FILES / pn_faits.SUBDIR / name
        ).read_bytes()
    assert sum((FILES / pn_faits.SUBDIR / n).stat().st_size for n in pn_faits.FILES) < 1_000_000


def test_demo_loads_once_with_sensitive_facts_and_evening_hot_spots(engine):
    from sample_data import police_municipale, reference

    reference.load(engine, FILES, "demo")
    police_municipale.load(engine, FILES, "demo")
    pn_faits.load(engine, FILES, "demo")
    imports = batch_admin.list_imports(engine, source="pn_faits")
    assert len(imports) == 2 and imports["rejected"].sum() == 0 and imports["inserted"].sum() > 4000
    pn_faits.load(engine, FILES, "demo")
    assert batch_admin.list_imports(engine, source="pn_faits").head(2)["inserted"].sum() == 0
    with engine.connect() as conn:
        unplaced, unclassified = conn.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE geom IS NULL), count(*) FILTER (WHERE category_code IS NULL) "
                "FROM obs.pn_fact"
            )
        ).one()
    written = (FILES / pn_faits.SUBDIR / pn_faits.FILES[1]).read_text(encoding="utf-8")
    unknown = sum(written.count(f",{w},") for w in pn_faits.UNKNOWN_WORDINGS)
    assert unplaced == 0 and unclassified == unknown > 5
    # the analyst finds them on the nomenclature page, most frequent first
    listed = pn_catalogue.unknown_labels(engine)
    assert set(listed["label"]) == set(pn_faits.UNKNOWN_WORDINGS) and listed["facts"].sum() == unknown
    summary = event_queries.summary(engine, EventFilter(sources=("pn",)))
    assert 100 < summary["sensitive"] < 400
    evenings = EventFilter(sources=("pn",), hours=(18, 6))
    weekend = event_queries.counts_by(engine, evenings, by="weekday")
    assert (
        weekend.set_index("key")["count"][[6, 7]].mean() > weekend.set_index("key")["count"][[1, 2, 3]].mean()
    )
    # « cambriolages, 2023, soirées », as the restricted council asks for it
    f = EventFilter(
        categories=("cambriolages",), start=date(2023, 1, 1), end=date(2023, 12, 31), hours=(18, 6)
    )
    result = hotspots.getis_ord(engine, f, "conseil", cell=150)
    hot = [feat for feat in result["features"] if feat["properties"]["class"].startswith("chaud")]
    assert hot and result["method"]["zone_etudiee"] == "contour de COM:04112"
    layers = spatial.map_layers(engine, EventFilter(sources=("pn",)), "analyste")
    assert {layer["id"] for layer in layers["layers"]} == {"regroupements", "sensibles"}
