"""The table of sources holds together: what it says of each source is true of the database and the code."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import sqlalchemy as sa

import ingest
from observatoire import sources
from observatoire.events import filter as event_filter
from observatoire.imports import admin
from observatoire.permissions import PERMISSIONS


def _view_sources(conn, view: str) -> set[str]:
    definition = conn.execute(
        sa.text("SELECT pg_get_viewdef(CAST(:v AS regclass))"), {"v": view}
    ).scalar_one()
    return set(re.findall(r"'([a-z_]+)'::text AS source", definition))


def test_event_views_have_one_branch_per_event_source(engine):
    codes = {s.event_code for s in sources.event_sources()}
    with engine.connect() as conn:
        assert _view_sources(conn, "obs.event") == codes
        assert _view_sources(conn, "obs.event_category") <= codes


def test_tables_named_exist_and_undo_tables_carry_the_batch(engine):
    with engine.connect() as conn:
        for source in sources.SOURCES:
            named = list(source.undo_tables)
            named += [source.retention.table] if source.retention else []
            named += [source.freshness.table] if source.freshness else []
            for table in named:
                assert conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": table}).scalar(), (
                    source.key,
                    table,
                )
            for table in source.undo_tables:
                schema, name = table.split(".")
                assert conn.execute(
                    sa.text(
                        "SELECT 1 FROM information_schema.columns WHERE table_schema = :s AND table_name = :n "
                        "AND column_name = 'batch_id'"
                    ),
                    {"s": schema, "n": name},
                ).scalar(), table
            if source.retention:
                schema, name = source.retention.table.split(".")
                assert conn.execute(
                    sa.text(
                        "SELECT 1 FROM information_schema.columns WHERE table_schema = :s AND table_name = :n "
                        "AND column_name = :c"
                    ),
                    {"s": schema, "n": name, "c": source.retention.date_column},
                ).scalar()
            if source.freshness:
                conn.execute(sa.text(source.freshness.latest_sql))


def test_importers_and_demo_modules_resolve(settings):
    for source in sources.SOURCES:
        if source.importer:
            module, _, name = source.importer.partition(":")
            assert callable(getattr(importlib.import_module(module), name)), source.importer
        if source.undo_check:
            module, _, name = source.undo_check.partition(":")
            assert callable(getattr(importlib.import_module(module), name)), source.undo_check
        if source.demo:
            demo = importlib.import_module(source.demo)
            assert callable(demo.generate) and callable(demo.load), source.demo
        if source.retention:
            assert isinstance(getattr(settings, source.retention.years_setting), int)


def test_every_batch_name_an_importer_writes_is_in_the_table():
    """Each ingest module names its batches in a constant; each must be a source of the table."""
    written = set()
    for info in pkgutil.iter_modules(ingest.__path__):
        module = importlib.import_module(f"ingest.{info.name}")
        for attr in ("SOURCE", "SOURCE_NAME"):
            value = getattr(module, attr, None)
            if isinstance(value, str):
                written.add(value)
    assert written, "no batch name found: the check would pass on nothing"
    unknown = {name for name in written if sources.by_batch(name) is None}
    assert unknown == set()
    territories = inspect.getsource(importlib.import_module("ingest.territories"))
    assert 'f"territoires-{level}"' in territories
    assert all(
        f"territoires-{level}" in sources.BY_KEY["territoires"].batches
        for level in importlib.import_module("ingest.territories").LEVELS
    )


def test_lists_derived_from_the_table():
    assert admin.UNDO_TABLES["pm"] == ("obs.pm_intervention",)
    assert "territoires-iris" not in admin.UNDO_TABLES  # reference rows updated in place: no undo
    assert list(event_filter.SOURCES) == [s.event_code for s in sources.event_sources()]
    # the police municipale sees its own events only; readers see every source; others see none
    assert event_filter.allowed_sources("police_municipale") == ("pm",)
    assert set(event_filter.allowed_sources("conseil")) == set(event_filter.SOURCES)
    assert all(role in PERMISSIONS["carte.voir"] for s in sources.event_sources() for role in s.map_roles)
    keys = [s.key for s in sources.SOURCES]
    assert len(keys) == len(set(keys))
    batches = [b for s in sources.SOURCES for b in s.batches]
    assert len(batches) == len(set(batches))
    colours = [s.colour for s in sources.event_sources()]
    assert None not in colours and len(colours) == len(set(colours))
