"""Catalogues: code and database agree, the groupings are well formed."""

from __future__ import annotations

import sqlalchemy as sa

from observatoire.police_nationale import indicators


def test_indicator_catalogue_in_database_matches_the_code(engine):
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.text("SELECT * FROM obs.pn_indicator"))}
    assert set(rows) == set(indicators.BY_ID)
    for ind in indicators.INDICATORS:
        row = rows[ind.id]
        assert (row.label, row.unit, row.denominator, row.sensitive) == (
            ind.label,
            ind.unit,
            ind.denominator,
            ind.sensitive,
        )


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
