"""Upload pages' machinery: a private store for the dropped files and a runner for the long work on them.

**Store.** A dropped file lives in a folder of ``OBS_HOME/uploads`` named by a random token (folder 0700,
file 0600), beside a note of who dropped it, only between the drop and the commit: it is deleted once
committed, refused for personal data, or cancelled by the user (a commit refused for its errors keeps it, to be
tried again), and :meth:`UploadStore.sweep` deletes what was abandoned longer than the TTL. The
browser only ever holds the token, and a token opens a file for the account that dropped it only.

**Jobs.** Verification and commit run in a thread while the page polls their progress: :func:`start_job`,
then :func:`job` at each tick. The server is one process (waitress threads), so a dict guarded by a lock is
enough to share them. A job holds its upload: neither the sweep nor a new drop deletes it meanwhile, and a
second job on the same file is refused.

**Limits.** No account, and no file, can take the dashboard from the others: an account keeps at most
``OBS_PENDING_UPLOADS_MB`` of dropped files waiting and runs ``OBS_JOBS_PER_USER`` jobs at once, the server
``OBS_JOBS_TOTAL`` (a job counts until its thread has really ended, since until then it may hold a database
connection); a job still running after ``OBS_JOB_TIMEOUT_S`` is answered as failed and its database sessions
are ended (see :func:`observatoire.db.end_sessions`). Each limit reached is answered in French.

    store = UploadStore(suffixes=(".csv",), wrong_type="« {name} » n'est pas un CSV.")
    upload = store.save(contents, filename, login)          # dcc.Upload's data URL → Upload(token, path)
    upload = store.open(token, login)                       # later, from the token the browser sends back
    job_id = start_job(login, "verification", lambda path, progress: report_dict, store=store, token=token)
    job(job_id, login)                                       # Job(stage, share, done, result) or None
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dashboard.context import settings
from observatoire import db
from observatoire.errors import InputFileError, ObservatoireError, PersonalDataRefused, ValidationFailed

log = logging.getLogger(__name__)

MAX_BYTES = 100 * 1024 * 1024  # base64 makes it ~133 MB, under the server's 200 MB request limit
UPLOAD_TTL_SECONDS = 2 * 3600  # an upload never committed is swept after this
JOB_TTL_SECONDS = 3600  # a finished job is forgotten after this
UNEXPECTED = (
    "Une erreur inattendue est survenue ; elle a été consignée. Rien n'a été enregistré. Réessayez ou "
    "prévenez l'administrateur."
)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_OWNER = ".proprietaire"
_NOTE = ".note"

_LOCK = threading.Lock()
_SAVE_LOCK = threading.Lock()  # an account's pending bytes are counted and added to as one step
_JOBS: dict[str, Job] = {}
_BUSY: set[str] = set()  # upload tokens a job is working on
_RUNNING: dict[str, str] = {}  # job id → owner, while the job's thread lives

Progress = Callable[[str, float], None]


# --- Store ----------------------------------------------------------------------------------------------


def safe_name(filename: str | None, default: str = "export.csv") -> str:
    """The user's file name, kept for the batch and the report, without any path or odd character."""
    name = Path(str(filename or default).replace("\\", "/")).name
    name = re.sub(r"[^\w.\- ()]+", "_", name).strip(" .") or default
    stem, suffix = os.path.splitext(name)
    return stem[:100] + suffix.lower()


def _root() -> Path:
    root = Path(settings().home) / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    return root


@dataclass(frozen=True)
class Upload:
    """A stored file: the token the browser holds and the file's path on the server."""

    token: str
    path: Path

    def write_note(self, data: dict[str, Any]) -> None:
        """Keep what the page learnt of the file (its header, a proposal) beside it, not in the browser."""
        (self.path.parent / _NOTE).write_text(json.dumps(data))

    def read_note(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.path.parent / _NOTE).read_text())
        except (OSError, ValueError):
            return None


@dataclass(frozen=True)
class UploadStore:
    """The files of one upload page: which suffixes it takes (``wrong_type`` names the refused file as
    ``{name}``), how large, how long an abandoned file is kept. Every store shares ``OBS_HOME/uploads``."""

    suffixes: tuple[str, ...]
    wrong_type: str
    max_bytes: int = MAX_BYTES
    ttl_seconds: int = UPLOAD_TTL_SECONDS

    def save(self, contents: str | None, filename: str | None, owner: str) -> Upload:
        """Decode ``contents`` (the data URL of ``dcc.Upload``) and keep it for ``owner``."""
        name = safe_name(filename)
        if not name.endswith(self.suffixes):
            raise InputFileError(self.wrong_type.format(name=name))
        _, _, payload = (contents or "").partition(",")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InputFileError("Le fichier n'a pas été reçu correctement : déposez-le de nouveau.") from exc
        if not data:
            raise InputFileError(f"« {name} » est vide.")
        if len(data) > self.max_bytes:
            raise InputFileError(
                f"« {name} » dépasse {self.max_bytes // (1024 * 1024)} Mo : découpez l'export par période."
            )
        root = _root()
        self.sweep(root)
        limit_mb = settings().pending_uploads_mb
        with _SAVE_LOCK:
            waiting = pending_bytes(owner, root)
            if waiting + len(data) > limit_mb * 1024 * 1024:
                raise InputFileError(
                    f"Vos fichiers déposés et pas encore enregistrés occupent déjà {_megabytes(waiting)} Mo ; "
                    f"avec « {name} » ({_megabytes(len(data))} Mo), ils dépasseraient {limit_mb} Mo par compte. "
                    "Enregistrez-les ou attendez la fin des traitements en cours ; un fichier abandonné est effacé "
                    f"au bout de {self.ttl_seconds // 3600} h."
                )
            token = secrets.token_urlsafe(24)
            folder = root / token
            folder.mkdir(mode=0o700)
            path = folder / name
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                (folder / _OWNER).write_text(json.dumps({"login": owner, "fichier": name}))
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
        return Upload(token, path)

    def open(self, token: str | None, owner: str) -> Upload:
        """The upload behind ``token`` if ``owner`` dropped it; a token from the browser proves nothing."""
        if not token or not _TOKEN.match(str(token)):
            raise InputFileError("Déposez d'abord un fichier.")
        folder = _root() / token
        try:
            meta = json.loads((folder / _OWNER).read_text())
        except (OSError, ValueError):
            raise InputFileError(
                "Le fichier déposé n'est plus disponible (déjà enregistré ou expiré) : déposez-le de nouveau."
            ) from None
        if meta.get("login") != owner:
            raise InputFileError("Ce fichier a été déposé par un autre compte.")
        return Upload(token, folder / meta["fichier"])

    def delete(self, token: str | None) -> None:
        """Delete the upload, unless a job is working on it (the job deletes it when done, if it must)."""
        if token and _TOKEN.match(str(token)) and not busy(token):
            shutil.rmtree(_root() / token, ignore_errors=True)

    def sweep(self, root: Path | None = None) -> None:
        """Delete uploads abandoned for longer than the TTL (a user who never clicked « Enregistrer »)."""
        limit = time.time() - self.ttl_seconds
        for folder in (root or _root()).iterdir():
            try:
                if folder.is_dir() and folder.stat().st_mtime < limit and not busy(folder.name):
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                continue


def pending_bytes(owner: str, root: Path | None = None) -> int:
    """Bytes of the files ``owner`` dropped that are still kept (not committed, refused or swept yet)."""
    total = 0
    for folder in (root or _root()).iterdir():
        try:
            meta = json.loads((folder / _OWNER).read_text())
            if meta.get("login") == owner:
                total += (folder / meta["fichier"]).stat().st_size
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # a folder being written or deleted meanwhile
    return total


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",")


def busy(token: str | None) -> bool:
    """Whether a job is working on the upload ``token``."""
    with _LOCK:
        return token in _BUSY


# --- Jobs -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """Where a job stands. ``result`` once ``done``: ``{"ok": True, "report": …}`` or ``{"ok": False,
    "message": …}`` with ``report`` (validation failed) or ``refus`` (personal data) when they apply."""

    owner: str
    kind: str
    stage: str
    share: float = 0.0
    done: bool = False
    result: dict[str, Any] | None = None
    at: float = field(default_factory=time.time)


def _record(job_id: str, job: Job) -> None:
    with _LOCK:
        limit = time.time() - JOB_TTL_SECONDS
        for key in [k for k, j in _JOBS.items() if j.done and j.at < limit]:
            del _JOBS[key]
        _JOBS[job_id] = job


def _update(job_id: str, **changes: Any) -> None:
    """Change a running job; a job answered already (by the watchdog) stays as it was answered."""
    with _LOCK:
        found = _JOBS.get(job_id)
        if found is not None and not found.done:
            _JOBS[job_id] = replace(found, **changes)


def start_job(
    owner: str,
    kind: str,
    task: Callable[[Path, Progress], dict[str, Any]],
    *,
    store: UploadStore,
    token: str | None,
    first_stage: str,
    keep_upload: bool = True,
) -> str:
    """Run ``task(path, progress)`` on ``owner``'s upload ``token`` in a thread; return the job's id at once.

    ``task`` reports ``progress(stage, share)`` and returns the report (a dict). Its errors become the job's
    result, never an exception of the caller: an upload that cannot be opened or is already being worked on
    gives a finished job that says so. Without ``keep_upload`` (a commit) the upload is deleted once the task
    succeeded; a task that failed keeps it, so that the user can change a choice (tick « accepter les lignes
    valides ») and run it again at once, until they cancel or the sweep deletes it. It is always deleted after a
    refusal for personal data or an unexpected error.
    """
    job_id = secrets.token_urlsafe(16)
    job = Job(owner=owner, kind=kind, stage=first_stage)
    limits = settings()
    try:
        upload = store.open(token, owner)
        with _LOCK:
            if upload.token in _BUSY:
                raise InputFileError("Ce fichier est déjà en cours de traitement : attendez la fin.")
            mine = sum(1 for who in _RUNNING.values() if who == owner)
            if mine >= limits.jobs_per_user:
                raise InputFileError(
                    f"Vous avez déjà {mine} traitement(s) en cours (au plus {limits.jobs_per_user} à la fois par "
                    "compte) : attendez qu'ils se terminent, puis relancez celui-ci."
                )
            if len(_RUNNING) >= limits.jobs_total:
                raise InputFileError(
                    f"Le serveur traite déjà {len(_RUNNING)} fichiers, son maximum : relancez dans quelques "
                    "minutes."
                )
            _BUSY.add(upload.token)
            _RUNNING[job_id] = owner
    except ObservatoireError as exc:
        _record(job_id, replace(job, done=True, result={"ok": False, "message": exc.message}))
        return job_id
    _record(job_id, job)
    watchdog = threading.Timer(limits.job_timeout_s, _expire, args=(job_id, limits.job_timeout_s))
    watchdog.daemon = True
    threading.Thread(
        target=_run,
        name=f"depot-{kind}",
        daemon=True,
        args=(job_id, kind, task, upload, keep_upload, watchdog),
    ).start()
    watchdog.start()
    return job_id


def _answered(job_id: str) -> bool:
    with _LOCK:
        found = _JOBS.get(job_id)
        return found is None or found.done


def _timed_out(seconds: int) -> str:
    count, unit = (seconds // 60, "minute") if seconds >= 60 and seconds % 60 == 0 else (seconds, "seconde")
    spent = f"{count} {unit}" + ("s" if count > 1 else "")
    return (
        f"Le traitement a dépassé {spent} : il a été arrêté et rien n'a été enregistré. Réessayez ; si cela se "
        "reproduit avec ce fichier, découpez-le par période ou prévenez l'administrateur."
    )


def _expire(job_id: str, seconds: int) -> None:
    """The watchdog: a job still running after ``seconds`` is answered as failed and its database sessions are
    ended, so that it holds neither a connection nor a transaction (its thread, if it is stuck elsewhere, still
    counts against the limits until it ends)."""
    with _LOCK:
        job = _JOBS.get(job_id)
        if job is None or job.done or job_id not in _RUNNING:  # ended meanwhile: its own answer stands
            return
        _JOBS[job_id] = replace(
            job, done=True, result={"ok": False, "message": _timed_out(seconds)}, at=time.time()
        )
    log.error("fichier déposé, %s : arrêté après %s s", job.kind, seconds)
    try:
        db.end_sessions(job_id)
    except Exception:
        log.exception("fichier déposé : les sessions du traitement arrêté n'ont pas pu être fermées")


def _run(
    job_id: str,
    kind: str,
    task: Callable[[Path, Progress], dict[str, Any]],
    upload: Upload,
    keep: bool,
    watchdog: threading.Timer,
) -> None:
    def progress(stage: str, share: float) -> None:
        _update(job_id, stage=stage, share=max(0.0, min(1.0, share)))

    result: dict[str, Any]
    drop = False
    try:
        with db.tagged(job_id):
            result = {"ok": True, "report": task(upload.path, progress)}
        drop = not keep  # committed: the file has served its purpose
    except ValidationFailed as exc:
        report = exc.report.to_dict() if exc.report is not None else None
        result = {"ok": False, "message": exc.message, "report": report}
    except PersonalDataRefused as exc:
        drop = True  # nothing of a refused file is kept
        result = {"ok": False, "message": exc.message, "refus": True}
    except ObservatoireError as exc:
        result = {"ok": False, "message": exc.message}
    except Exception as exc:
        message = db.limit_message(exc)
        if _answered(job_id):
            log.info("fichier déposé, %s : arrêté par le chien de garde (%s)", kind, exc)
        elif message is None:
            log.exception("fichier déposé, %s : erreur inattendue", kind)
            drop = True
        else:
            log.warning("fichier déposé, %s : %s (%s)", kind, message, exc)
        result = {"ok": False, "message": message or UNEXPECTED}
    finally:
        watchdog.cancel()
        with _LOCK:
            _BUSY.discard(upload.token)
            _RUNNING.pop(job_id, None)
    # Answered by the watchdog already, the job keeps that answer, unless its task ended well meanwhile (the
    # watchdog fired as it returned): what was done is then what is said.
    stopped = _answered(job_id) and not result["ok"]
    if drop or stopped:
        shutil.rmtree(upload.path.parent, ignore_errors=True)
    with _LOCK:
        found = _JOBS.get(job_id)
        if found is not None and not stopped:
            _JOBS[job_id] = replace(found, done=True, result=result, at=time.time())


def job(job_id: str | None, owner: str) -> Job | None:
    """The job ``job_id`` as it stands, if ``owner`` started it (None if unknown, forgotten or another's)."""
    with _LOCK:
        found = _JOBS.get(str(job_id))
    return found if found is not None and found.owner == owner else None
