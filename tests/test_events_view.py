"""The ``obs.event`` view gathers every source; filters by source, category, family, period, hours (wrapping
past midnight), weekdays and territory; the police municipale role sees its own source only."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from ingest import pn_faits
from observatoire.errors import PermissionDenied
from observatoire.events import hexgrid
from observatoire.events import queries as event_queries
from observatoire.events.filter import EventFilter
from tests.events_helpers import CENTRE_L93, insert_pn_facts, new_batch, square_outline, write_extract


def _pm_and_road(engine) -> None:
    with engine.begin() as conn:
        batch = new_batch(conn, "pm")
        conn.execute(
            sa.text("""
            INSERT INTO obs.pm_intervention (occurred_at, time_known, label, label_key, type_code, family_code, geom,
                                             geocoding_status, natural_key, batch_id)
            VALUES ('2023-06-03 23:30', true, 'Tapage', 'tapage', 'nuisances_sonores', 'tranquillite',
                    ST_SetSRID(ST_MakePoint(5.787, 43.834), 4326), 'coordonnees', 'a', :b),
                   ('2023-06-05 10:00', true, 'Différend familial', 'differend familial', 'differends_familiaux',
                    'tranquillite', ST_SetSRID(ST_MakePoint(5.788, 43.835), 4326), 'coordonnees', 'b', :b)"""),
            {"b": batch},
        )
        batch = new_batch(conn, "baac")
        conn.execute(
            sa.text("""
            INSERT INTO obs.road_accident (id, year, accident_date, accident_time, commune_insee, departement, geom,
                                           batch_id)
            VALUES (202300000001, 2023, '2023-06-04', '18:20', '04112', '04',
                    ST_SetSRID(ST_MakePoint(5.79, 43.83), 4326), :b),
                   (202300000002, 2023, '2023-06-06', NULL, '04112', '04', NULL, :b)"""),
            {"b": batch},
        )
        conn.execute(
            sa.text("""
            INSERT INTO obs.road_user (accident_id, rank_in_accident, gravity, batch_id)
            VALUES (202300000001, 1, 4, :b), (202300000001, 2, 3, :b)"""),
            {"b": batch},
        )


def test_the_view_unions_every_source(engine, tmp_path):
    pn_faits.commit(engine, write_extract(tmp_path / "faits.csv"), commune="04112")
    _pm_and_road(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT source, category, family, sensitive, geom_l93 IS NOT NULL AS placed FROM obs.event"
            )
        ).all()
    by_source: dict[str, list] = {}
    for r in rows:
        by_source.setdefault(r.source, []).append(r)
    assert {s: len(v) for s, v in by_source.items()} == {"pn": 6, "pm": 2, "routes": 2}
    road = sorted((r.category, r.placed) for r in by_source["routes"])
    assert road == [("accident_grave", True), ("gravite_inconnue", False)]
    sensitive = {(r.source, r.category) for r in rows if r.sensitive}
    assert sensitive == {
        ("pn", "violences_intrafamiliales"),
        ("pn", "violences_sexuelles"),
        ("pn", None),
        ("pm", "differends_familiaux"),
    }
    frame = event_queries.counts_by(engine, EventFilter(), by="source")
    assert dict(zip(frame["key"], frame["count"], strict=True)) == {"pm": 2, "pn": 6, "routes": 2}
    assert set(event_queries.categories(engine)["source"]) == {"pn", "pm", "routes"}


def test_catalogue_sensitivity_applies_to_facts_already_stored(engine, admin_engine, tmp_path):
    pn_faits.commit(engine, write_extract(tmp_path / "faits.csv"), commune="04112")
    with admin_engine.begin() as conn:
        conn.execute(sa.text("UPDATE obs.pn_fact_category SET sensitive = true WHERE code = 'menaces'"))
        conn.execute(
            sa.text("UPDATE obs.pn_fact SET category_code = 'menaces' WHERE source_record_id = 'P-1'")
        )
    try:
        with engine.connect() as conn:
            assert (
                conn.execute(
                    sa.text(
                        "SELECT e.sensitive FROM obs.event e JOIN obs.pn_fact f ON f.id = e.source_id "
                        "WHERE e.source = 'pn' AND f.source_record_id = 'P-1'"
                    )
                ).scalar()
                is True
            )
    finally:
        with admin_engine.begin() as conn:
            conn.execute(sa.text("UPDATE obs.pn_fact_category SET sensitive = false WHERE code = 'menaces'"))


def test_filters_period_hours_past_midnight_weekdays_and_categories(engine):
    x0, y0 = CENTRE_L93
    # one fact per hour of Monday 2 and Saturday 7 January 2023
    when = [datetime(2023, 1, d, h) for d in (2, 7) for h in range(24)]
    insert_pn_facts(engine, [x0] * 48, [y0] * 48, when=when)
    insert_pn_facts(engine, [x0], [y0], category="vols_simples", when=[datetime(2024, 3, 1, 12)])

    def total(**kw) -> int:
        return event_queries.summary(engine, EventFilter(**kw))["total"]

    assert total() == 49
    assert total(hours=(18, 6)) == 2 * 12  # 18:00–05:59
    assert total(hours=(8, 12)) == 2 * 4
    assert total(weekdays=(6, 7)) == 24
    assert total(weekdays=(1,), hours=(22, 2)) == 4
    assert total(start=date(2023, 1, 7), end=date(2023, 1, 7)) == 24
    assert total(categories=("cambriolages",)) == 48
    assert total(categories=("pn:vols_simples",)) == 1
    assert total(families=("biens",), start=date(2024, 1, 1)) == 1
    frame = event_queries.counts_by(engine, EventFilter(hours=(18, 6)), by="hour")
    assert frame["key"].tolist() == [0, 1, 2, 3, 4, 5, 18, 19, 20, 21, 22, 23]
    assert frame["label"].iloc[0] == "0 h" and frame["count"].sum() == 24


def test_territory_filter_uses_the_outline(engine):
    x0, y0 = CENTRE_L93
    square_outline(engine, "COM:04112", x0 - 1000, y0 - 1000, x0 + 1000, y0 + 1000)
    insert_pn_facts(engine, [x0, x0 + 500, x0 + 5000], [y0, y0, y0])
    assert event_queries.summary(engine, EventFilter(territory="COM:04112"))["total"] == 2


def test_roles_choose_the_sources(engine, tmp_path):
    pn_faits.commit(engine, write_extract(tmp_path / "faits.csv"), commune="04112")
    _pm_and_road(engine)
    assert event_queries.summary(engine, EventFilter(), role="police_municipale")["total"] == 2
    with pytest.raises(PermissionDenied):
        event_queries.summary(engine, EventFilter(sources=("pn",)), role="police_municipale")
    with pytest.raises(PermissionDenied):
        event_queries.summary(engine, EventFilter(), role="videoprotection")
    assert event_queries.summary(engine, EventFilter(), role="analyste")["total"] == 10
    assert set(event_queries.categories(engine, role="police_municipale")["source"]) == {"pm"}


def test_conseil_summary_masks_small_counts(engine):
    x0, y0 = CENTRE_L93
    insert_pn_facts(engine, [x0] * 12, [y0] * 12)
    insert_pn_facts(engine, [x0] * 3, [y0] * 3, category="violences_sexuelles")
    s = event_queries.summary(engine, EventFilter(), role="conseil", threshold=5)
    assert (s["total"], s["sensitive"]) == (15, "< 5")  # one hexagon of 15: nothing masked on the map
    insert_pn_facts(engine, [x0 + 3000] * 2, [y0] * 2)
    s = event_queries.summary(engine, EventFilter(), role="conseil", threshold=5)
    # 17 is known (one large hexagon holds them all): 17 - 15 would give the masked hexagon, so the 15 is
    # masked in complement, and the map shows no count to sum.
    assert s["total"] == s["geolocated"] == "non détaillé (secret statistique)"
    cells = hexgrid.hex_counts(engine, EventFilter(), 150, "conseil", threshold=5)["features"]
    assert sorted(x["properties"]["count"] for x in cells) == ["< 5", "non diffusé"]
    assert hexgrid.hex_counts(engine, EventFilter(), 5000, "conseil", threshold=5)["total"] == 17
    frame = event_queries.counts_by(engine, EventFilter(), by="category", role="conseil", threshold=5)
    masked = frame[frame["masked"]]
    # 3 sexual-violence facts beside the known 17: the burglaries (14) are masked in complement
    assert sorted(masked["count_label"]) == ["< 5", "non diffusé"] and masked["count"].isna().all()
