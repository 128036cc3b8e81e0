"""The upload pages' machinery on its own (no database, no browser): the private file store — who may open
a file, what it refuses, what it deletes and when — and the jobs the pages poll."""

from __future__ import annotations

import base64
import os
import re
import threading
import time
from types import SimpleNamespace

import flask
import pytest

from dashboard import uploads
from observatoire.errors import InputFileError, ObservatoireError, PersonalDataRefused, ValidationFailed
from observatoire.settings import Settings

STORE = uploads.UploadStore(suffixes=(".csv",), wrong_type="« {name} » n'est pas un CSV.", max_bytes=64)


@pytest.fixture
def home(tmp_path):
    app = flask.Flask(__name__)
    app.config["OBS_SETTINGS"] = Settings(home=tmp_path, environment="test")
    with app.app_context():
        yield tmp_path


def _data_url(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode()).decode()


def _files(home) -> list[str]:
    return sorted(p.name for p in (home / "uploads").rglob("*") if p.is_file())


def _wait(job_id: str, owner: str) -> uploads.Job:
    deadline = time.time() + 10
    while time.time() < deadline:
        job = uploads.job(job_id, owner)
        if job is not None and job.done:
            return job
        time.sleep(0.02)
    raise AssertionError("le travail ne s'est pas terminé")


def test_a_file_is_kept_privately_for_the_account_that_dropped_it(home):
    upload = STORE.save(_data_url("a;b\n1;2\n"), "C:\\Users\\agent\\Export juin?.CSV", "agent")
    assert upload.path.name == "Export juin_.csv" and upload.path.read_text() == "a;b\n1;2\n"
    assert oct(upload.path.stat().st_mode & 0o777) == "0o600"
    assert oct(upload.path.parent.stat().st_mode & 0o777) == "0o700"
    assert STORE.open(upload.token, "agent") == upload
    with pytest.raises(InputFileError, match="un autre compte"):
        STORE.open(upload.token, "collegue")
    for forged in (None, "", "../../etc", "x" * 10):
        with pytest.raises(InputFileError, match="Déposez d'abord"):
            STORE.open(forged, "agent")
    upload.write_note({"header": ["a", "b"]})
    assert STORE.open(upload.token, "agent").read_note() == {"header": ["a", "b"]}
    STORE.delete(upload.token)
    with pytest.raises(InputFileError, match="plus disponible"):
        STORE.open(upload.token, "agent")
    assert _files(home) == []


@pytest.mark.parametrize(
    "contents, name, message",
    [
        (_data_url("a;b"), "export.pdf", "« export.pdf » n'est pas un CSV."),
        ("data:text/csv;base64,!!!", "export.csv", "n'a pas été reçu correctement"),
        ("data:text/csv;base64,", "export.csv", "« export.csv » est vide."),
        (_data_url("x" * 65), "export.csv", "dépasse"),
    ],
)
def test_what_the_store_refuses_leaves_nothing(home, contents, name, message):
    with pytest.raises(InputFileError, match=re.escape(message)):
        STORE.save(contents, name, "agent")
    assert not (home / "uploads").exists() or _files(home) == []


def test_abandoned_uploads_are_swept_but_not_one_a_job_holds(home):
    old, held = (STORE.save(_data_url("a;b"), "export.csv", "agent") for _ in range(2))
    past = time.time() - uploads.UPLOAD_TTL_SECONDS - 60
    for upload in (old, held):
        os.utime(upload.path.parent, (past, past))
    release = threading.Event()
    job_id = uploads.start_job(
        "agent",
        "verification",
        lambda path, progress: release.wait(10) and {},
        store=STORE,
        token=held.token,
        first_stage="lecture",
    )
    assert uploads.busy(held.token)
    STORE.delete(held.token)  # a new drop does not take the file from under a job either
    STORE.save(_data_url("a;b"), "nouveau.csv", "agent")  # a save sweeps
    assert not old.path.exists() and held.path.exists()
    release.set()
    assert _wait(job_id, "agent").result == {"ok": True, "report": {}}
    assert not uploads.busy(held.token) and held.path.exists()  # a check keeps the file for the commit


def test_a_job_reports_progress_then_its_result_to_its_owner_only(home):
    upload = STORE.save(_data_url("a;b"), "export.csv", "agent")
    step = threading.Event()
    finish = threading.Event()

    def task(path, progress):
        assert path == upload.path
        progress("validation", 1.7)  # clamped
        step.set()
        finish.wait(10)
        return {"inserted": 3}

    job_id = uploads.start_job(
        "agent",
        "enregistrement",
        task,
        store=STORE,
        token=upload.token,
        first_stage="lecture",
        keep_upload=False,
    )
    assert step.wait(10)
    running = uploads.job(job_id, "agent")
    assert (running.kind, running.stage, running.share, running.done) == (
        "enregistrement",
        "validation",
        1.0,
        False,
    )
    assert uploads.job(job_id, "collegue") is None and uploads.job("inconnu", "agent") is None
    again = uploads.start_job(
        "agent", "enregistrement", task, store=STORE, token=upload.token, first_stage="lecture"
    )
    assert _wait(again, "agent").result == {
        "ok": False,
        "message": "Ce fichier est déjà en cours de traitement : attendez la fin.",
    }
    finish.set()
    assert _wait(job_id, "agent").result == {"ok": True, "report": {"inserted": 3}}
    assert _files(home) == []  # committed: the file is gone


def _failing(exc):
    def task(path, progress):
        raise exc

    return task


@pytest.mark.parametrize(
    "error, result, kept",
    [
        (
            ValidationFailed("3 lignes en erreur", SimpleNamespace(to_dict=lambda: {"errors_total": 3})),
            {"ok": False, "message": "3 lignes en erreur", "report": {"errors_total": 3}},
            True,
        ),
        (
            ObservatoireError("Colonne « Date » absente"),
            {"ok": False, "message": "Colonne « Date » absente"},
            True,
        ),
        (
            PersonalDataRefused("Colonne « Nom » refusée"),
            {"ok": False, "message": "Colonne « Nom » refusée", "refus": True},
            False,
        ),
        (RuntimeError("bug"), {"ok": False, "message": uploads.UNEXPECTED}, False),
    ],
)
@pytest.mark.parametrize("kind", ["verification", "enregistrement"])
def test_a_failed_check_or_commit_says_why_and_drops_the_file_when_it_must(home, error, result, kept, kind):
    # A refused commit keeps the file as a check does: ticking « accepter les lignes valides » then saving
    # again must work without dropping the file anew.
    upload = STORE.save(_data_url("a;b"), "export.csv", "agent")
    job_id = uploads.start_job(
        "agent",
        kind,
        _failing(error),
        store=STORE,
        token=upload.token,
        first_stage="lecture",
        keep_upload=kind == "verification",
    )
    assert _wait(job_id, "agent").result == result
    assert upload.path.exists() is kept
    assert not uploads.busy(upload.token)


def test_a_job_on_a_missing_or_foreign_upload_ends_at_once(home):
    upload = STORE.save(_data_url("a;b"), "export.csv", "agent")
    never = _failing(AssertionError("ne doit pas tourner"))
    foreign = uploads.start_job(
        "collegue", "verification", never, store=STORE, token=upload.token, first_stage="lecture"
    )
    assert _wait(foreign, "collegue").result == {
        "ok": False,
        "message": "Ce fichier a été déposé par un autre compte.",
    }
    missing = uploads.start_job(
        "agent", "verification", never, store=STORE, token=None, first_stage="lecture"
    )
    assert _wait(missing, "agent").result == {"ok": False, "message": "Déposez d'abord un fichier."}
    assert upload.path.exists()


def _limited(**limits) -> None:
    config = flask.current_app.config
    config["OBS_SETTINGS"] = config["OBS_SETTINGS"].model_copy(update=limits)


def _held(owner: str, release: threading.Event, name: str = "export.csv") -> str:
    upload = STORE.save(_data_url("a;b"), name, owner)
    return uploads.start_job(
        owner,
        "verification",
        lambda path, progress: release.wait(10) and {},
        store=STORE,
        token=upload.token,
        first_stage="lecture",
    )


def test_an_account_runs_so_many_jobs_at_once_and_the_server_so_many(home):
    _limited(jobs_per_user=2, jobs_total=3)
    release = threading.Event()
    try:
        running = [_held("agent", release), _held("agent", release)]
        third = _held("agent", release)
        assert _wait(third, "agent").result == {
            "ok": False,
            "message": "Vous avez déjà 2 traitement(s) en cours (au plus 2 à la fois par compte) : attendez "
            "qu'ils se terminent, puis relancez celui-ci.",
        }
        running.append(_held("collegue", release))  # another account still may
        fourth = _held("autre", release)
        assert "Le serveur traite déjà 3 fichiers" in _wait(fourth, "autre").result["message"]
    finally:
        release.set()
    assert all(
        _wait(j, owner).result["ok"] for j, owner in zip(running, ["agent", "agent", "collegue"], strict=True)
    )
    assert _wait(_held("agent", release), "agent").result["ok"]  # ended jobs no longer count


def test_a_job_running_too_long_is_answered_as_stopped(home):
    _limited(job_timeout_s=1)
    release = threading.Event()

    def stuck(path, progress):
        release.wait(10)
        raise RuntimeError("connexion fermée")  # what a task whose session was ended meets next

    try:
        started = time.monotonic()
        upload = STORE.save(_data_url("a;b"), "export.csv", "agent")
        job_id = uploads.start_job(
            "agent", "verification", stuck, store=STORE, token=upload.token, first_stage="lecture"
        )
        stopped = _wait(job_id, "agent")
        assert time.monotonic() - started < 5
        assert stopped.result == {
            "ok": False,
            "message": "Le traitement a dépassé 1 seconde : il a été arrêté et rien n'a été enregistré. "
            "Réessayez ; si cela se reproduit avec ce fichier, découpez-le par période ou prévenez "
            "l'administrateur.",
        }
        # Its thread, stuck, still counts against the account's limit until it ends.
        assert len(uploads._RUNNING) == 1
    finally:
        release.set()
    deadline = time.time() + 10
    while uploads._RUNNING and time.time() < deadline:
        time.sleep(0.02)
    assert not uploads._RUNNING
    assert uploads.job(job_id, "agent").result == stopped.result  # its late answer does not replace it
    assert _files(home) == []  # nothing of a stopped job is kept


def test_an_account_keeps_so_many_megabytes_waiting(home):
    _limited(pending_uploads_mb=1)
    store = uploads.UploadStore(suffixes=(".csv",), wrong_type="pas un CSV", max_bytes=10**7)
    first = store.save(_data_url("x" * 600_000), "premier.csv", "agent")
    with pytest.raises(InputFileError) as refused:
        store.save(_data_url("y" * 600_000), "second.csv", "agent")
    assert refused.value.message == (
        "Vos fichiers déposés et pas encore enregistrés occupent déjà 0,6 Mo ; avec « second.csv » (0,6 Mo), "
        "ils dépasseraient 1 Mo par compte. Enregistrez-les ou attendez la fin des traitements en cours ; un "
        "fichier abandonné est effacé au bout de 2 h."
    )
    store.save(_data_url("y" * 600_000), "second.csv", "collegue")  # each account its own share
    store.delete(first.token)
    store.save(_data_url("y" * 600_000), "second.csv", "agent")
