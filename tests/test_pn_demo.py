"""Demo data of the police nationale sources: deterministic, loadable twice, enough for every comparison."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from observatoire.police_nationale import evolution, rates
from sample_data import etat4001, ssmsi

FILES = Path(__file__).resolve().parents[1] / "sample_data" / "files"
SEED = 4112


def test_generation_is_deterministic_and_matches_the_committed_files(tmp_path):
    ssmsi.generate(tmp_path, SEED)
    etat4001.generate(tmp_path, SEED)
    for name in (ssmsi.COMMUNES_FILE, ssmsi.DEPARTEMENTS_FILE, etat4001.FILE):
        assert (tmp_path / name).read_bytes() == (FILES / name).read_bytes(), name
    assert (
        sum(
            (tmp_path / n).stat().st_size
            for n in (ssmsi.COMMUNES_FILE, ssmsi.DEPARTEMENTS_FILE, etat4001.FILE)
        )
        < 1_000_000
    )


def test_demo_loads_once_and_feeds_every_level(engine, tmp_path):
    ssmsi.generate(tmp_path, SEED)
    etat4001.generate(tmp_path, SEED)
    ssmsi.load(engine, tmp_path, "demo")
    etat4001.load(engine, tmp_path, "demo")
    with engine.connect() as conn:
        before = conn.execute(
            sa.text("SELECT (SELECT count(*) FROM obs.pn_stat), (SELECT count(*) FROM obs.etat4001_count)")
        ).one()
    ssmsi.load(engine, tmp_path, "demo")
    etat4001.load(engine, tmp_path, "demo")
    with engine.connect() as conn:
        after = conn.execute(
            sa.text("SELECT (SELECT count(*) FROM obs.pn_stat), (SELECT count(*) FROM obs.etat4001_count)")
        ).one()
    assert before == after and before[0] > 0 and before[1] > 0

    frame = rates.compare(engine, "cambriolages_logement", "04112", [2016, 2024])
    assert set(frame.level) == set(rates.LEVELS)
    assert frame.rate_per_1000.notna().all(), frame[["level", "year", "coverage"]]
    assert (frame.edition == ssmsi.EDITION).all()
    group = frame[frame.level == "groupe"].iloc[0]
    assert group.members == 8 and group.members_published == 8  # 04112 and the seven 20–50k communes
    # Small communes' small counts are left unpublished, as the SSMSI does.
    small = rates.compare(engine, "homicides", "04006", range(2016, 2025), levels=["commune"])
    assert (~small.published).any() and small[~small.published].rate_per_1000.isna().all()

    table = evolution.evolution_table(engine, "avip", "COM:04112", 2019, 2024)
    assert table.count_from.notna().all() and (table.months_from == 12).all()
