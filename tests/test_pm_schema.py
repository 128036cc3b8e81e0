"""The police municipale catalogue is seeded by the migration and survives the per-test reset."""

from __future__ import annotations

import sqlalchemy as sa


def test_catalogue_is_seeded_and_kept_between_tests(engine):
    with engine.connect() as conn:
        types = conn.execute(sa.text("SELECT count(*) FROM obs.pm_intervention_type")).scalar_one()
        sensitive = (
            conn.execute(sa.text("SELECT code FROM obs.pm_intervention_type WHERE sensitive")).scalars().all()
        )
    assert types >= 20
    assert sensitive == ["differends_familiaux"]
