"""Large batches go through the owner's bulk insert (indexes rebuilt once): same rows, same dedup, same
indexes and constraints afterwards as the ordinary path; the per-statement reference checks refuse what
foreign keys refused."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ingest import event_exports, staging
from ingest import police_municipale as pm
from observatoire.imports.admin import undo_import
from sample_data.demo import FILES

PM_DIR = FILES / "police_municipale"
FIRST, SECOND = PM_DIR / "export_logiciel_b_2024_s1_s2.csv", PM_DIR / "export_logiciel_b_2023_s2_2024_s1.csv"


def _schema(engine, table: str) -> tuple:
    with engine.connect() as conn:
        indexes = sorted(
            conn.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE schemaname = 'obs' AND tablename = :t"),
                {"t": table},
            ).scalars()
        )
        constraints = sorted(
            conn.execute(
                sa.text(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = ('obs.' || :t)::regclass"
                ),
                {"t": table},
            ).scalars()
        )
        triggers = sorted(
            conn.execute(
                sa.text(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = ('obs.' || :t)::regclass AND NOT tgisinternal"
                ),
                {"t": table},
            ).scalars()
        )
    return indexes, constraints, triggers


def _keys(engine) -> set:
    with engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT natural_key FROM obs.pm_intervention")).scalars())


@pytest.fixture
def ban(engine):
    from ingest.ban import import_ban

    import_ban(engine, PM_DIR / "ban_manosque_fictive.csv")


def _load_both(engine) -> tuple[int, int, set]:
    a = pm.commit(engine, FIRST, accept_valid=True, commune="04112")
    b = pm.commit(engine, SECOND, accept_valid=True, commune="04112")
    keys = _keys(engine)
    for batch in (b.batch_id, a.batch_id):
        undo_import(engine, batch, user="test", role="analyste")
    return a.inserted, b.inserted, keys


def test_bulk_path_inserts_and_dedups_like_the_ordinary_path(engine, ban, monkeypatch):
    before = _schema(engine, "pm_intervention")
    ordinary = _load_both(engine)

    calls = []
    real = staging.open_bulk_window
    monkeypatch.setattr(staging, "BULK_MIN_ROWS", 0)
    monkeypatch.setattr(staging, "open_bulk_window", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    bulk = _load_both(engine)

    assert calls == [
        "obs.pm_intervention",
        "obs.pm_intervention",
    ]  # the second, larger file dedups by anti-join
    assert bulk == ordinary
    assert ordinary[1] < 2000 and len(ordinary[2]) == ordinary[0] + ordinary[1]  # the overlap was skipped
    assert _schema(engine, "pm_intervention") == before


def test_ssmsi_bulk_path_keeps_every_published_rate(engine, shared_data, monkeypatch):
    from ingest import ssmsi
    from observatoire.police_nationale import rates

    before = _schema(engine, "pn_stat")
    calls = []
    real = ssmsi.bulk_insert
    monkeypatch.setattr(staging, "BULK_MIN_ROWS", 0)
    monkeypatch.setattr(ssmsi, "bulk_insert", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    report = ssmsi.import_ssmsi(
        engine, shared_data / "ssmsi" / "donnee-dep-data.gouv-2022-geographie2023-produit-le2023-07-17.csv"
    )
    assert calls == ["obs.pn_stat"] and report.inserted == 9898
    frame = rates.level_values(engine, "2023-07-17", "departement")
    assert len(frame) == 9898
    assert (
        (frame.rate_per_1000 - frame.published_rate).abs() < 1e-6 * frame.published_rate.abs() + 1e-9
    ).all()
    assert _schema(engine, "pn_stat") == before


def test_reference_checks_refuse_like_foreign_keys(engine):
    with pytest.raises(IntegrityError) as unknown_territory:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO obs.pn_stat (edition, territory_code, indicator_id, year, published, batch_id) "
                    "VALUES ('x', 'COM:99999', 'cbv', 2020, true, NULL)"
                )
            )
    assert unknown_territory.value.orig.sqlstate == "23503"  # foreign_key_violation, as before
    report = pm.commit(engine, PM_DIR / "main_courante_2023_s1.csv", accept_valid=True, commune="04112")
    with pytest.raises(IntegrityError) as batch_in_use:
        with engine.begin() as conn:  # a batch that still has rows cannot disappear
            conn.execute(sa.text("DELETE FROM obs.import_batch WHERE id = :b"), {"b": report.batch_id})
    assert batch_in_use.value.orig.sqlstate == "23503"


def test_bulk_path_keeps_the_first_of_keys_repeated_in_the_batch(engine, monkeypatch, tmp_path):
    from tests.pm_helpers import ROWS, write_export

    rows = [list(r) for r in ROWS] + [list(r) for r in ROWS]  # every record id twice
    rows[len(ROWS)][2] = "Rodéo urbain"  # the second copy differs: the first line must win
    f = write_export(tmp_path / "twice.csv", rows=rows)

    def stored():
        with engine.connect() as conn:
            return sorted(conn.execute(sa.text("SELECT natural_key, label FROM obs.pm_intervention")).all())

    ordinary = pm.commit(engine, f, commune="04112")
    kept = stored()
    undo_import(engine, ordinary.batch_id, user="test", role="analyste")
    monkeypatch.setattr(staging, "BULK_MIN_ROWS", 0)
    monkeypatch.setattr(event_exports, "PART_ROWS", 3)  # copies of a key fall in different parts
    steps = []
    bulk = pm.commit(engine, f, commune="04112", progress=lambda stage, share: steps.append((stage, share)))
    assert ("ecriture", 0.5) in steps  # the upload page moves on between the copy and the index rebuild
    assert (
        (bulk.inserted, bulk.duplicates) == (ordinary.inserted, ordinary.duplicates) == (len(ROWS), len(ROWS))
    )
    assert stored() == kept and ("Rodéo urbain" not in {label for _, label in kept})
    with (
        engine.connect() as conn
    ):  # ids reserved by the window, in the order of the file, then the sequence goes on
        ids = (
            conn.execute(sa.text("SELECT id FROM obs.pm_intervention ORDER BY source_record_id"))
            .scalars()
            .all()
        )
        after = conn.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence('obs.pm_intervention', 'id'))")
        ).scalar()
    assert ids == sorted(ids) and after > max(ids)


def _window_row(batch: int) -> dict:
    return {
        "occurred_at": datetime(2024, 5, 1, 10),
        "time_known": True,
        "label": "Tapage",
        "label_key": "tapage",
        "geocoding_status": "non_geolocalise",
        "natural_key": "k:test",
        "batch_id": batch,
    }


def _copy_one(conn, row: dict) -> int:
    import pyarrow as pa

    first_id = staging.open_bulk_window(conn, "obs.pm_intervention", 1)
    row = {"id": first_id, **row}
    with staging.CopyWriter(conn, "obs.pm_intervention", list(row)) as writer:
        writer.send({k: pa.array([v], pa.int32() if k == "batch_id" else None) for k, v in row.items()})
    return staging.close_bulk_window(conn, "obs.pm_intervention")


def test_bulk_window_checks_references_once_after_its_copy(engine):
    """The window turns the per-statement trigger off during the copy: its scan afterwards must refuse a
    missing batch as the trigger would, and leave the trigger on."""
    before = _schema(engine, "pm_intervention")
    with pytest.raises(IntegrityError) as missing:
        with engine.begin() as conn:
            _copy_one(conn, _window_row(987654))
    assert missing.value.orig.sqlstate == "23503"
    assert _schema(engine, "pm_intervention") == before
    with engine.begin() as conn:
        batch = conn.execute(
            sa.text(
                "INSERT INTO obs.import_batch (source, file_name, sha256) "
                "VALUES ('pm', 'essai.csv', repeat('0', 64)) RETURNING id"
            )
        ).scalar_one()
        assert _copy_one(conn, _window_row(batch)) == 1
        enabled = conn.execute(
            sa.text("SELECT tgenabled FROM pg_trigger WHERE tgname = 'pm_intervention_references_insert'")
        ).scalar_one()
    assert enabled == "O"  # on again for the ordinary inserts
    assert _schema(engine, "pm_intervention") == before


def test_a_window_left_open_cannot_commit(engine):
    """Without its indexes the table must never be committed: a transaction that opens the window and does
    not close it is refused at commit, and everything it did is undone."""
    before = _schema(engine, "pm_intervention")
    with pytest.raises(IntegrityError, match="non refermé"):
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT obs.pm_intervention_bulk_open()")
            conn.exec_driver_sql(
                "INSERT INTO obs.pm_intervention (occurred_at, label, label_key, geocoding_status, "
                "natural_key, batch_id) VALUES (now(), 'x', 'x', 'non_geolocalise', 'k:x', 1)"
            )
    assert _schema(engine, "pm_intervention") == before
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.pm_intervention")).scalar() == 0
    with pytest.raises(sa.exc.ProgrammingError):  # the window's record is the owner's alone
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM obs.bulk_window")


def test_validating_a_large_file_writes_nothing_and_locks_nothing(engine, ban, monkeypatch):
    """A dry run counts what a commit would add: same figures, no bulk window (which would keep the dashboards
    waiting on the table's lock while the file is only being checked)."""
    first = pm.commit(engine, FIRST, accept_valid=True, commune="04112")
    monkeypatch.setattr(staging, "BULK_MIN_ROWS", 0)
    monkeypatch.setattr(staging, "open_bulk_window", lambda *a, **k: pytest.fail("bulk window in a dry run"))
    checked = pm.validate(engine, SECOND, commune="04112")
    assert _keys(engine) and len(_keys(engine)) == first.inserted  # nothing written
    monkeypatch.undo()
    monkeypatch.setattr(staging, "BULK_MIN_ROWS", 0)
    second = pm.commit(engine, SECOND, accept_valid=True, commune="04112")
    assert (checked.inserted, checked.duplicates) == (second.inserted, second.duplicates)
    assert 0 < second.inserted and 0 < second.duplicates
