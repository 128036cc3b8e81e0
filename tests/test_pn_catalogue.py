"""Catalogues: code and database agree, the groupings are well formed, the tables match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import observatoire.models_pn  # noqa: F401  (registers the tables on Base.metadata)
from observatoire import indicators
from observatoire.migrate import include_object
from observatoire.models import SCHEMA, Base

PN_TABLES = {"pn_edition", "pn_indicator", "pn_stat", "pn_denominator", "etat4001_index", "etat4001_count"}


def _table_of(diff) -> str | None:
    """Table name a diff entry of alembic's compare_metadata is about."""
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        if isinstance(part, sa.Table):
            return part.name
        table = getattr(part, "table", None)
        if isinstance(table, sa.Table):
            return table.name
        if isinstance(part, str) and part in PN_TABLES:
            return part
    return None


def test_police_nationale_models_and_migration_do_not_differ(admin_engine):
    with admin_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_schemas": True, "include_object": include_object, "compare_type": True,
            "version_table_schema": SCHEMA,
        })
        diff = compare_metadata(context, Base.metadata)
    # Other capabilities' tables may be migrated without their models imported here: only ours count.
    ours = [d for d in diff if _table_of(d) in PN_TABLES]
    assert ours == []
    assert PN_TABLES <= {t.name for t in Base.metadata.sorted_tables}


def test_indicator_catalogue_in_database_matches_the_code(engine):
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.text("SELECT * FROM obs.pn_indicator"))}
    assert set(rows) == set(indicators.BY_ID)
    for ind in indicators.INDICATORS:
        row = rows[ind.id]
        assert (row.label, row.unit, row.denominator, row.sensitive) == (ind.label, ind.unit, ind.denominator,
                                                                         ind.sensitive)


def test_etat4001_index_in_database_matches_the_code(engine):
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT number, label FROM obs.etat4001_index")).all())
    assert rows == indicators.ETAT4001_LABELS
    assert len(rows) == 107


def test_groupings_use_known_index_and_name_their_source():
    for grouping in indicators.GROUPINGS.values():
        ids = {c.id for c in grouping.categories}
        for cat in grouping.categories:
            assert cat.indexes and set(cat.indexes) <= set(indicators.ETAT4001_LABELS)
            assert not set(cat.indexes) & indicators.UNUSED_INDEXES
            assert cat.source
            if cat.parent:  # a "dont" line is a part of its parent
                assert cat.parent in ids
                parent = next(c for c in grouping.categories if c.id == cat.parent)
                assert set(cat.indexes) <= set(parent.indexes)
    assert indicators.GROUPINGS["biens"].total_indexes() == tuple(range(15, 44)) + tuple(range(62, 69))


def test_labels_of_both_nomenclatures_resolve():
    assert indicators.by_label("Vols de véhicule").id == indicators.by_label("VOLS DE VEHICULES").id
    assert indicators.resolve("cambriolages_logement").denominator == "logements"
    assert indicators.resolve("Violences physiques intrafamiliales").sensitive
    assert indicators.by_label("Vols de bicyclettes") is None
