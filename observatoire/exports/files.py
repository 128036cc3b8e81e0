"""Writing an export: to a temporary name beside the target, then renamed, so that a failure never leaves a
half-written file; and its entry in the audit log with the SHA-256 of what was written, so that a document
found later can be traced to who made it, when, and with which filters."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from observatoire import audit
from observatoire.errors import InputFileError


@dataclass(frozen=True)
class Written:
    path: Path | None
    sha256: str
    size: int


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _unwritable(path: Path, why: str) -> InputFileError:
    return InputFileError(f"Impossible d'écrire le fichier « {path} » : {why}.")


@contextlib.contextmanager
def temporary_beside(path: Path) -> Iterator[Path]:
    """A temporary path in the target's folder (same file system, so the rename is atomic), renamed to
    ``path`` when the block succeeds and removed when it fails."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise _unwritable(path, f"le dossier « {folder} » n'existe pas")
    if path.is_dir():
        raise _unwritable(path, "c'est un dossier")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partiel", dir=folder)
    except OSError as exc:
        raise _unwritable(
            path, f"le dossier « {folder} » n'accepte pas l'écriture ({exc.strerror})"
        ) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise _unwritable(path, exc.strerror or str(exc)) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_bytes(path: Path, data: bytes) -> Written:
    with temporary_beside(path) as tmp:
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    return Written(Path(path), sha256(data), len(data))


def write_with(path: Path, writer: Callable[[Path], None]) -> Written:
    """For the libraries that write to a path themselves (GeoPackage): ``writer(tmp)``, then the rename."""
    with temporary_beside(path) as tmp:
        tmp.unlink()  # the library creates the file (an empty one is not a valid GeoPackage)
        writer(tmp)
        data = tmp.read_bytes()
    return Written(Path(path), sha256(data), len(data))


def record(
    engine: Engine,
    written: Written,
    *,
    what: str,
    fmt: str,
    audience: str,
    login: str | None,
    role: str | None,
    filters: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """The export's entry in the audit log."""
    audit.record_now(
        engine,
        "export",
        user_login=login,
        role=role,
        target=what,
        ip=ip,
        detail={
            "sha256": written.sha256,
            "octets": written.size,
            "fichier": written.path.name if written.path else None,
            "format": fmt,
            "diffusion": audience,
            "filtres": filters or {},
            **(extra or {}),
        },
    )
