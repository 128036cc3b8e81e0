"""The audit log is append-only for the application role; only the retention purge removes rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from observatoire import audit
from observatoire.errors import ObservatoireError
from tests.conftest import run_cli


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM obs.audit_log")).scalar_one()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE obs.audit_log SET action = 'effacement'",
        "DELETE FROM obs.audit_log",
        "TRUNCATE obs.audit_log",
    ],
)
def test_application_role_cannot_rewrite_the_audit_log(engine, admin_engine, statement):
    audit.record_now(engine, "connexion", user_login="quelquun")
    for eng in (engine, admin_engine):  # the owner is refused too, by the trigger
        with pytest.raises(DBAPIError):
            with eng.begin() as conn:
                conn.execute(sa.text(statement))
    assert _count(engine) == 1


def _age(admin_engine, years: int, *logins: str) -> None:
    """Test set-up: the entries of ``logins`` become ``years`` old, as if written then. The owner lifts its
    trigger and recomputes the whole chain — which is also what verify cannot tell from the real thing."""
    with admin_engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE obs.audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(
            sa.text(
                "UPDATE obs.audit_log SET at = at - make_interval(years => :y) WHERE user_login = ANY(:l)"
            ),
            {"y": years, "l": list(logins)},
        )
        conn.execute(
            sa.text("""
            DO $$ DECLARE r record; prev text := (SELECT anchor_hash FROM obs.audit_chain); BEGIN
                FOR r IN SELECT * FROM obs.audit_log ORDER BY id LOOP
                    UPDATE obs.audit_log SET prev_hash = prev, hash = obs.audit_entry_hash(prev, r.id, r.at,
                        r.user_login, r.role, r.action, r.target, r.batch_id, r.ip, r.detail)
                    WHERE id = r.id RETURNING hash INTO prev;
                END LOOP;
                UPDATE obs.audit_chain SET last_hash = prev;
            END $$""")
        )
        conn.execute(sa.text("ALTER TABLE obs.audit_log ENABLE TRIGGER audit_log_append_only"))


def test_purge_removes_only_expired_entries_and_logs_itself(engine, admin_engine, cli_env):
    audit.record_now(engine, "connexion", user_login="ancien")
    audit.record_now(engine, "connexion", user_login="recent")
    _age(admin_engine, 4, "ancien")  # beyond the three years of retention
    assert audit.verify(engine).intact
    result = run_cli("purge")
    assert result.exit_code == 0, result.output
    assert "1 entrée(s)" in result.output
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT user_login, action, target, detail FROM obs.audit_log ORDER BY id")
        ).all()
    assert [r.user_login for r in rows if r.action != "purge"] == ["recent"]
    purge_of_log = next(r for r in rows if r.action == "purge" and r.target == "audit_log")
    assert purge_of_log.detail["lignes_supprimees"] == 1
    assert audit.verify(engine).intact


def test_purge_removes_logbook_interventions_older_than_three_years(engine, cli_env):
    from ingest import police_municipale as pm
    from sample_data.demo import FILES

    pm.commit(
        engine,
        FILES / "police_municipale" / "main_courante_2021_2022.csv",
        accept_valid=True,
        commune="04112",
    )
    with engine.connect() as conn:
        before = conn.execute(
            sa.text(
                "SELECT count(*), count(*) FILTER (WHERE occurred_at >= now() - interval '3 years') "
                "FROM obs.pm_intervention"
            )
        ).one()
    assert before[0] > 0
    result = run_cli("purge")
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT count(*) FROM obs.pm_intervention")).scalar_one()
        logged = conn.execute(
            sa.text(
                "SELECT detail FROM obs.audit_log WHERE action = 'purge' AND target = 'obs.pm_intervention'"
            )
        ).scalar_one()
    assert after == before[1]
    assert logged["lignes_supprimees"] == before[0] - before[1]


# -- Append only through the database, which sets the time and the chain ---------------------------------


def _rows(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM obs.audit_log ORDER BY id")).all()


def _as_owner(admin_engine, *statements: str) -> None:
    """An attacker with the owner's rights: triggers lifted, rows changed directly."""
    with admin_engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE obs.audit_log DISABLE TRIGGER USER"))
        for statement in statements:
            conn.execute(sa.text(statement))
        conn.execute(sa.text("ALTER TABLE obs.audit_log ENABLE TRIGGER USER"))


def _four_entries(engine) -> None:
    for who in ("alice", "bruno", "chloe", "damien"):
        audit.record_now(engine, "connexion", user_login=who, role="admin", ip="10.0.0.1")


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO obs.audit_log (at, action, user_login) VALUES (now() - interval '5 years', 'connexion', 'faux')",
        "INSERT INTO obs.audit_log (action) VALUES ('purge')",
        "UPDATE obs.audit_chain SET last_hash = repeat('0', 64)",
        "UPDATE obs.audit_policy SET min_retention_years = 1",
        "INSERT INTO obs.audit_chain (id, last_id, last_hash, anchor_id, anchor_hash) VALUES (true, 0, '', 0, '')",
    ],
)
def test_application_role_cannot_forge_entries_nor_touch_the_chain_or_the_policy(engine, statement):
    audit.record_now(engine, "connexion", user_login="quelquun")
    with pytest.raises(DBAPIError) as exc:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert "permission denied" in str(exc.value)
    assert _count(engine) == 1
    assert audit.verify(engine).intact


def test_the_database_sets_id_time_and_chain_whoever_inserts(engine, admin_engine):
    audit.record_now(engine, "connexion", user_login="alice", ip="10.0.0.1", detail={"motif": "é"})
    with admin_engine.begin() as conn:  # even the owner cannot choose them
        conn.execute(
            sa.text(
                "INSERT INTO obs.audit_log (id, at, action, user_login, prev_hash, hash) "
                "VALUES (999, '2001-01-01', 'connexion', 'bruno', 'x', 'y')"
            )
        )
    first, second = _rows(engine)
    assert (first.id, second.id) == (1, 2)
    assert second.at >= first.at and second.at.year > 2001
    assert first.prev_hash == audit.ZERO_HASH and second.prev_hash == first.hash
    report = audit.verify(engine)
    assert report.intact and report.entries == 2 and report.last_hash == second.hash


def test_the_session_variable_no_longer_lets_a_delete_through(engine, admin_engine):
    audit.record_now(engine, "connexion", user_login="alice")
    for eng in (engine, admin_engine):
        with pytest.raises(DBAPIError):
            with eng.begin() as conn:
                conn.execute(sa.text("SELECT set_config('obs.purge_en_cours', 'oui', true)"))
                conn.execute(sa.text("DELETE FROM obs.audit_log"))
    assert _count(engine) == 1


def test_the_purge_entry_of_the_log_is_reserved_to_the_purge(engine):
    with pytest.raises(DBAPIError, match="réservée"):
        audit.record_now(engine, "purge", target="audit_log", detail={"derniere_supprimee": 0})
    audit.record_now(engine, "purge", target="obs.pm_intervention", detail={"lignes_supprimees": 0})


def test_concurrent_appends_make_one_chain(engine):
    def append(n: int) -> None:
        for i in range(25):
            audit.record_now(engine, "consultation", user_login=f"fil-{n}", target=f"/page/{i}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(append, range(4)))
    assert [r.id for r in _rows(engine)] == list(range(1, 101))
    report = audit.verify(engine)
    assert report.intact and report.entries == 100


# -- verify -------------------------------------------------------------------------------------------------


def test_verify_an_intact_log_from_the_cli(engine, cli_env):
    result = run_cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "Journal intègre : 0 entrée" in result.output
    _four_entries(engine)
    result = run_cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "Journal intègre : 4 entrées (n° 1 à 4)" in result.output


def test_verify_detects_an_entry_edited_by_the_owner(engine, admin_engine, cli_env):
    _four_entries(engine)
    _as_owner(admin_engine, "UPDATE obs.audit_log SET user_login = 'personne' WHERE id = 2")
    report = audit.verify(engine)
    assert not report.intact and report.broken_at == 2
    assert "l'entrée n° 2 a été modifiée" in report.problem
    result = run_cli("audit", "verify")
    assert result.exit_code == 2
    assert "journal d'audit altéré : l'entrée n° 2 a été modifiée" in result.output


def test_verify_detects_a_backdated_entry(engine, admin_engine):
    _four_entries(engine)
    _as_owner(admin_engine, "UPDATE obs.audit_log SET at = at - interval '1 microsecond' WHERE id = 3")
    assert audit.verify(engine).broken_at == 3


def test_verify_detects_an_entry_edited_and_rehashed(engine, admin_engine):
    _four_entries(engine)
    _as_owner(
        admin_engine,
        "UPDATE obs.audit_log SET detail = '{\"x\": 1}' WHERE id = 2",
        "UPDATE obs.audit_log SET hash = obs.audit_entry_hash(prev_hash, id, at, user_login, role, action, "
        "target, batch_id, ip, detail) WHERE id = 2",
    )
    report = audit.verify(engine)
    assert report.broken_at == 2 and "l'entrée n° 2 a été réécrite" in report.problem


def test_verify_detects_a_deleted_middle_entry(engine, admin_engine, cli_env):
    _four_entries(engine)
    _as_owner(admin_engine, "DELETE FROM obs.audit_log WHERE id = 2")
    report = audit.verify(engine)
    assert report.broken_at == 3 and report.entries == 1
    assert "l'entrée n° 2 a été supprimée" in report.problem
    result = run_cli("audit", "verify")
    assert result.exit_code == 2 and "l'entrée n° 2 a été supprimée" in result.output


@pytest.mark.parametrize(
    "deleted, expected",
    [
        ("id = 1", "l'entrée n° 1 a été supprimée"),
        ("id >= 3", "les entrées n° 3 à 4 ont été supprimées (fin du journal coupée après l'entrée n° 2)"),
        ("true", "les entrées n° 1 à 4 ont été supprimées"),
    ],
)
def test_verify_detects_deleted_first_and_last_entries(engine, admin_engine, deleted, expected):
    _four_entries(engine)
    _as_owner(admin_engine, f"DELETE FROM obs.audit_log WHERE {deleted}")
    assert expected in audit.verify(engine).problem


# -- Purge: only within the owner's policy, the chain kept verifiable ------------------------------------------


def test_purge_below_the_floor_is_refused_by_the_database(engine, cli_env):
    _four_entries(engine)
    with pytest.raises(DBAPIError, match="minimum de 3 an"):
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT obs.purge_audit(1, 'x')"))
    with pytest.raises(ObservatoireError, match="inférieure au minimum de 3 an"):
        audit.purge(engine, 2, "x")
    result = run_cli("purge", "--years", "1")
    assert result.exit_code == 1
    assert (
        "Purge du journal d'audit refusée : une conservation de 1 an(s) est inférieure au minimum de 3 an(s)"
        in result.output
    )
    assert _count(engine) == 4 and audit.verify(engine).intact
    assert audit.minimum_retention_years(engine) == 3


def test_purge_within_policy_keeps_the_chain_verifiable(engine, admin_engine, cli_env):
    _four_entries(engine)
    audit.record_now(engine, "connexion", user_login="eric")
    _age(admin_engine, 4, "alice", "bruno", "damien")  # damien is old but after chloe: kept with her
    removed_hash = _rows(engine)[1].hash
    assert audit.purge(engine, 3, "cli:test") == 2
    rows = _rows(engine)
    assert [r.user_login for r in rows] == ["chloe", "damien", "eric", "cli:test"]
    purge_entry = rows[-1].detail
    assert (purge_entry["derniere_supprimee"], purge_entry["empreinte_derniere_supprimee"]) == (
        2,
        removed_hash,
    )
    assert rows[0].prev_hash == removed_hash
    report = audit.verify(engine)
    assert report.intact and report.entries == 4 and report.first_id == 3
    result = run_cli("audit", "verify")
    assert result.exit_code == 0 and "Journal intègre : 4 entrées (n° 3 à 6)" in result.output

    assert audit.purge(engine, 5, "cli:test") == 0  # nothing that old: still verifiable
    audit.record_now(engine, "connexion", user_login="fanny")
    assert audit.verify(engine).intact
    # The first entry left after the purge deleted: the anchor no longer leads to it.
    _as_owner(admin_engine, "DELETE FROM obs.audit_log WHERE id = 3")
    assert "l'entrée n° 3 a été supprimée" in audit.verify(engine).problem


def test_purge_of_everything_old_leaves_a_chain_starting_at_its_entry(engine, admin_engine):
    _four_entries(engine)
    _age(admin_engine, 4, "alice", "bruno", "chloe", "damien")
    assert audit.purge(engine, 3, None) == 4
    report = audit.verify(engine)
    assert report.intact and report.entries == 1 and report.first_id == 5
