"""Upload pages' machinery: a private store for the dropped files and a runner for the long work on them.

**Store.** A dropped file lives in a folder of ``OBS_HOME/uploads`` named by a random token (folder 0700,
file 0600), beside a note of who dropped it, only between the drop and the commit: the page deletes it once
committed or refused, and :meth:`UploadStore.sweep` deletes what was abandoned longer than the TTL. The
browser only ever holds the token, and a token opens a file for the account that dropped it only.

**Jobs.** Verification and commit run in a thread while the page polls their progress: :func:`start_job`,
then :func:`job` at each tick. The server is one process (waitress threads), so a dict guarded by a lock is
enough to share them. A job holds its upload: neither the sweep nor a new drop deletes it meanwhile, and a
second job on the same file is refused.

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
_JOBS: dict[str, Job] = {}
_BUSY: set[str] = set()  # upload tokens a job is working on

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
    with _LOCK:
        _JOBS[job_id] = replace(_JOBS[job_id], **changes)


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
    gives a finished job that says so. The upload is deleted when done unless ``keep_upload`` (a check, which
    a commit follows), and always after a refusal for personal data or an unexpected error.
    """
    job_id = secrets.token_urlsafe(16)
    job = Job(owner=owner, kind=kind, stage=first_stage)
    try:
        upload = store.open(token, owner)
        with _LOCK:
            if upload.token in _BUSY:
                raise InputFileError("Ce fichier est déjà en cours de traitement : attendez la fin.")
            _BUSY.add(upload.token)
    except ObservatoireError as exc:
        _record(job_id, replace(job, done=True, result={"ok": False, "message": exc.message}))
        return job_id
    _record(job_id, job)
    threading.Thread(
        target=_run, name=f"depot-{kind}", daemon=True, args=(job_id, kind, task, upload, keep_upload)
    ).start()
    return job_id


def _run(
    job_id: str, kind: str, task: Callable[[Path, Progress], dict[str, Any]], upload: Upload, keep: bool
) -> None:
    def progress(stage: str, share: float) -> None:
        _update(job_id, stage=stage, share=max(0.0, min(1.0, share)))

    result: dict[str, Any]
    drop = not keep
    try:
        result = {"ok": True, "report": task(upload.path, progress)}
    except ValidationFailed as exc:
        report = exc.report.to_dict() if exc.report is not None else None
        result = {"ok": False, "message": exc.message, "report": report}
    except PersonalDataRefused as exc:
        drop = True  # nothing of a refused file is kept
        result = {"ok": False, "message": exc.message, "refus": True}
    except ObservatoireError as exc:
        result = {"ok": False, "message": exc.message}
    except Exception:
        log.exception("fichier déposé, %s : erreur inattendue", kind)
        drop = True
        result = {"ok": False, "message": UNEXPECTED}
    finally:
        with _LOCK:
            _BUSY.discard(upload.token)
    if drop:
        shutil.rmtree(upload.path.parent, ignore_errors=True)
    _update(job_id, done=True, result=result, at=time.time())


def job(job_id: str | None, owner: str) -> Job | None:
    """The job ``job_id`` as it stands, if ``owner`` started it (None if unknown, forgotten or another's)."""
    with _LOCK:
        found = _JOBS.get(str(job_id))
    return found if found is not None and found.owner == owner else None
