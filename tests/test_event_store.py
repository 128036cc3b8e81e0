"""The map's events in memory give the very numbers of the SQL, and never stale ones."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest
import sqlalchemy as sa

from observatoire.events import hexgrid
from observatoire.events import queries as event_queries
from observatoire.events import store as event_store
from observatoire.events.filter import EventFilter
from tests.events_helpers import CENTRE_L93, insert_pn_facts, new_batch

FILTERS = [
    EventFilter(),
    EventFilter(
        sources=("pn",),
        categories=("cambriolages",),
        start=date(2023, 1, 1),
        end=date(2023, 12, 31),
        hours=(18, 6),
    ),
    EventFilter(families=("biens",), start=date(2023, 3, 1), end=date(2023, 6, 30)),
    EventFilter(weekdays=(6, 7), hours=(20, 4)),
    EventFilter(sources=("pm",)),
    EventFilter(categories=("pn:violences_intrafamiliales", "stationnement_genant"), hours=(8, 12)),
    EventFilter(sensitive=False, weekdays=(1,)),
    EventFilter(start=date(2023, 12, 31)),
    EventFilter(end=date(2023, 1, 31), sources=("pn", "pm")),
]


@pytest.fixture
def events_mixed(engine):
    """Facts of three categories (one sensitive, one not placed, one unclassified), and interventions, one
    without a known time."""
    rng = np.random.default_rng(3)
    x0, y0 = CENTRE_L93
    for category, n in (("cambriolages", 900), ("vols_simples", 500), ("violences_intrafamiliales", 120)):
        when = [
            datetime(2023, 1, 1) + (datetime(2024, 1, 1) - datetime(2023, 1, 1)) * float(t)
            for t in rng.random(n)
        ]
        insert_pn_facts(engine, rng.normal(x0, 700, n), rng.normal(y0, 500, n), category=category, when=when)
    with engine.begin() as conn:
        batch = new_batch(conn, "pm")
        conn.execute(
            sa.text("""
            INSERT INTO obs.pn_fact (occurred_at, time_known, label, label_key, category_code, family_code, sensitive,
                                     geom, geocoding_status, natural_key, batch_id)
            VALUES ('2023-05-04 00:00', false, 'Fait non classé', 'fait non classe', NULL, NULL, false, NULL,
                    'non_geolocalise', 'x-1', :b)"""),
            {"b": batch},
        )
        conn.execute(
            sa.text("""
            INSERT INTO obs.pm_intervention (occurred_at, time_known, label, label_key, type_code, family_code, geom,
                                             geocoding_status, natural_key, batch_id)
            SELECT timestamp '2023-01-01' + k * interval '7 hours 13 minutes', k % 9 <> 0, 'Stationnement gênant',
                   'stationnement genant', 'stationnement_genant', t.family_code,
                   CASE WHEN k % 11 = 0 THEN NULL ELSE ST_SetSRID(ST_MakePoint(5.78 + (k % 37) * 0.0007,
                                                                               43.83 + (k % 23) * 0.0005), 4326) END,
                   CASE WHEN k % 11 = 0 THEN 'non_geolocalise' ELSE 'coordonnees' END, 'pm-' || k, :b
            FROM generate_series(1, 1200) k JOIN obs.pm_intervention_type t ON t.code = 'stationnement_genant'"""),
            {"b": batch},
        )
    return engine


def _sql_and_memory(engine, fn):
    event_store.disable(engine)
    try:
        expected = fn()
    finally:
        event_store.enable(engine)
    return expected, fn()


@pytest.mark.parametrize("size", [150.0, 73.5])
def test_cells_totals_and_breakdowns_equal_the_sql(events_mixed, size):
    engine = events_mixed
    for f in FILTERS:

        def cells(f=f):
            with engine.connect() as conn:
                frame = hexgrid.count_cells(conn, f, size)
            return sorted(map(tuple, frame[["i", "j", "count"]].to_numpy().tolist()))

        expected, got = _sql_and_memory(engine, cells)
        assert got == expected, f
        for role in (None, "conseil"):
            expected, got = _sql_and_memory(
                engine, lambda f=f, role=role: event_queries.summary(engine, f, role)
            )
            assert got == expected, (f, role)
        for by in event_queries.BREAKDOWNS:
            expected, got = _sql_and_memory(engine, lambda f=f, by=by: event_queries.counts_by(engine, f, by))
            assert got.to_dict("records") == expected.to_dict("records"), (f, by)
    event_store.disable(engine)


def test_the_copy_follows_imports_undo_and_nomenclature(engine):
    event_store.enable(engine)
    try:
        x0, y0 = CENTRE_L93
        assert event_queries.summary(engine, EventFilter())["total"] == 0
        batch = insert_pn_facts(engine, [x0] * 40, [y0] * 40)
        assert event_queries.summary(engine, EventFilter())["total"] == 40
        insert_pn_facts(engine, [x0 + 500] * 7, [y0] * 7, category="vols_simples")
        table = event_queries.counts_by(engine, EventFilter(), "category")
        assert dict(zip(table["key"], table["count"], strict=True)) == {
            "pn:cambriolages": 40,
            "pn:vols_simples": 7,
        }
        # a nomenclature edit: the category becomes sensitive, so the totals' sensitive count follows
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE obs.pn_fact_category SET sensitive = true WHERE code = 'vols_simples'")
            )
        assert event_queries.summary(engine, EventFilter())["sensitive"] == 7
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM obs.pn_fact WHERE batch_id = :b"), {"b": batch})
        with engine.connect() as conn:
            assert hexgrid.count_cells(conn, EventFilter(), 150)["count"].sum() == 7
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE obs.pn_fact_category SET sensitive = false WHERE code = 'vols_simples'")
            )
        event_store.disable(engine)


def test_a_territory_filter_is_answered_in_sql(events_mixed):
    event_store.enable(events_mixed)
    try:
        with events_mixed.connect() as conn:
            assert event_store.snapshot(conn, EventFilter(territory="COM:04112")) is None
            assert event_store.snapshot(conn, EventFilter()) is not None
    finally:
        event_store.disable(events_mixed)


def test_the_server_preloads_the_events(events_mixed):
    event_store.enable(events_mixed)
    try:
        event_store.warm(events_mixed).join(timeout=60)
        with events_mixed.connect() as conn:
            preloaded = event_store._stores[events_mixed].current
            assert preloaded is not None and len(preloaded) == 1520 + 1 + 1200
            assert event_store.snapshot(conn) is preloaded  # nothing changed: no second load
    finally:
        event_store.disable(events_mixed)


def test_zone_counts_equal_the_sql(events_mixed):
    from observatoire.events import spatial
    from tests.events_helpers import square_outline

    x0, y0 = CENTRE_L93
    square_outline(events_mixed, "COM:04112", x0 - 1500, y0 - 1500, x0 + 1500, y0 + 1500)
    square_outline(
        events_mixed, "IRIS:041120101", x0 - 1500, y0 - 1500, x0, y0 + 1500, level="iris", parent="COM:04112"
    )
    square_outline(
        events_mixed, "IRIS:041120102", x0, y0 - 1500, x0 + 1500, y0 + 1500, level="iris", parent="COM:04112"
    )
    square_outline(
        events_mixed, "QPV:QN00402M", x0 - 300, y0 - 200, x0 + 400, y0 + 300, level="qpv", parent="COM:04112"
    )
    for f in FILTERS:
        for level in ("iris", "qpv"):
            for role in (None, "conseil"):
                expected, got = _sql_and_memory(
                    events_mixed,
                    lambda f=f, level=level, role=role: spatial.zone_counts(
                        events_mixed, f, level, role, commune="04112"
                    ),
                )
                assert got == expected, (f, level, role)
    event_store.disable(events_mixed)
