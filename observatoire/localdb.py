"""A PostgreSQL + PostGIS cluster owned by the product, under ``OBS_HOME``.

The system's binaries (``initdb``, ``pg_ctl``) are used; as root they run through ``runuser -u
postgres`` because initdb refuses root. Its state (data directory, port, generated passwords) lives in
``OBS_HOME/cluster.json`` so ``start`` can be repeated and ``url`` answers without the server.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from observatoire.errors import DatabaseUnavailable, MissingSystemPackage
from observatoire.settings import Settings

log = logging.getLogger(__name__)

DB_NAME = "observatoire"
OWNER_ROLE = "obs_owner"  # owns the schema, runs migrations
APP_ROLE = "obs_app"  # what the application connects as: no UPDATE/DELETE on the audit log
INSTALL_HINT = (
    "Installez-les avec : sudo apt-get install postgresql postgresql-15-postgis-3 "
    "(ou la version de PostgreSQL de votre distribution, par ex. postgresql-16-postgis-3)."
)


@dataclass
class ClusterState:
    datadir: str
    socket_dir: str
    port: int
    owner_password: str
    app_password: str
    bindir: str

    def url(self, role: str = APP_ROLE) -> str:
        password = self.app_password if role == APP_ROLE else self.owner_password
        return f"postgresql+psycopg://{role}:{password}@127.0.0.1:{self.port}/{DB_NAME}"


def find_bindir() -> Path:
    """Newest system PostgreSQL that also has PostGIS installed."""
    candidates = []
    for bindir in glob.glob("/usr/lib/postgresql/*/bin"):
        version = Path(bindir).parent.name
        if (Path(bindir) / "initdb").exists() and (Path(bindir) / "pg_ctl").exists():
            has_postgis = bool(glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"))
            candidates.append((has_postgis, float(version), Path(bindir)))
    if not candidates:
        found = shutil.which("pg_ctl")
        if found and shutil.which("initdb"):
            return Path(os.path.realpath(found)).parent
        raise MissingSystemPackage(
            "Les programmes PostgreSQL (initdb, pg_ctl) sont introuvables. " + INSTALL_HINT
        )
    candidates.sort(reverse=True)
    has_postgis, version, bindir = candidates[0]
    if not has_postgis:
        raise MissingSystemPackage(
            f"PostgreSQL {version:g} est installé mais pas l'extension PostGIS. "
            f"Installez-la avec : sudo apt-get install postgresql-{version:g}-postgis-3"
        )
    return bindir


def _as_root() -> bool:
    return os.geteuid() == 0


def _server_user_can_enter(path: Path) -> bool:
    """Whether the ``postgres`` account can traverse every parent of ``path``."""
    if not _as_root():
        return True
    probe = path if path.exists() else path.parent
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(probe)], capture_output=True
    )
    return result.returncode == 0


def _run(cmd: list[str], check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    if _as_root():
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    log.debug("exécution : %s", " ".join(cmd))
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/")
    if check and result.returncode != 0:
        raise DatabaseUnavailable(
            "Le serveur PostgreSQL local n'a pas pu être préparé ou démarré.",
            detail=f"{' '.join(cmd)} → {result.returncode}\n{result.stdout}\n{result.stderr}",
        )
    return result


def _chown_to_server(path: Path) -> None:
    if _as_root():
        shutil.chown(path, user="postgres", group="postgres")


def _tail(path: Path, size: int = 4000) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - size))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(preferred: int) -> int:
    for port in range(preferred, preferred + 200):
        if port_is_free(port):
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    """The cluster of one ``OBS_HOME``."""

    def __init__(self, home: Path):
        self.home = Path(home).absolute()
        self.state_file = self.home / "cluster.json"

    # -- state ---------------------------------------------------------------------------------
    def load_state(self) -> ClusterState | None:
        if not self.state_file.exists():
            return None
        return ClusterState(**json.loads(self.state_file.read_text()))

    def _save_state(self, state: ClusterState) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2))
        tmp.chmod(0o600)
        tmp.replace(self.state_file)

    def _choose_datadir(self) -> Path:
        """``OBS_HOME/pgdata`` when the server account can reach it, else a directory it can."""
        inside = self.home / "pgdata"
        if _server_user_can_enter(self.home):
            return inside
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        return Path("/var/lib/observatoire") / digest

    # -- lifecycle -----------------------------------------------------------------------------
    def init(self) -> ClusterState:
        state = self.load_state()
        if state and (Path(state.datadir) / "PG_VERSION").exists():
            return state
        bindir = find_bindir()
        self.home.mkdir(parents=True, exist_ok=True)
        datadir = self._choose_datadir()
        if datadir.exists() and any(datadir.iterdir()):
            shutil.rmtree(datadir)  # a half-made cluster from an interrupted init
        datadir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _chown_to_server(datadir)
        socket_dir = datadir.parent / (datadir.name + "-run")
        socket_dir.mkdir(parents=True, exist_ok=True)
        _chown_to_server(socket_dir)
        state = ClusterState(
            datadir=str(datadir),
            socket_dir=str(socket_dir),
            port=free_port(5433),
            owner_password=secrets.token_urlsafe(24),
            app_password=secrets.token_urlsafe(24),
            bindir=str(bindir),
        )
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(datadir),
                "-U",
                "postgres",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        self._save_state(state)
        self.start()
        self._bootstrap(state)
        return state

    def _psql(self, state: ClusterState, sql: str, db: str = "postgres") -> str:
        out = _run(
            [
                str(Path(state.bindir) / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-h",
                state.socket_dir,
                "-p",
                str(state.port),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ]
        )
        return out.stdout.strip()

    def _bootstrap(self, state: ClusterState) -> None:
        self._psql(state, f"CREATE ROLE {OWNER_ROLE} LOGIN PASSWORD '{state.owner_password}'")
        self._psql(state, f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{state.app_password}'")
        self._psql(state, f"CREATE DATABASE {DB_NAME} OWNER {OWNER_ROLE}")
        # PostGIS needs a superuser to be created; the owner then does everything else.
        self._psql(state, "CREATE EXTENSION IF NOT EXISTS postgis", db=DB_NAME)
        self._psql(state, f"GRANT CONNECT ON DATABASE {DB_NAME} TO {APP_ROLE}")

    def _clear_stale_lock(self, state: ClusterState) -> None:
        """A crash leaves ``postmaster.pid`` behind; the next start must not trip over it."""
        pidfile = Path(state.datadir) / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            alive = b"postgres" in cmdline
        except (ValueError, IndexError, OSError):
            alive = False
        if not alive:
            log.warning("verrou périmé supprimé : %s", pidfile)
            pidfile.unlink(missing_ok=True)
            for lock in Path(state.socket_dir).glob(".s.PGSQL.*"):
                lock.unlink(missing_ok=True)

    def is_running(self) -> bool:
        state = self.load_state()
        if not state:
            return False
        result = _run([str(Path(state.bindir) / "pg_ctl"), "status", "-D", state.datadir], check=False)
        return result.returncode == 0

    def start(self) -> ClusterState:
        state = self.load_state()
        if state is None or not (Path(state.datadir) / "PG_VERSION").exists():
            return self.init()
        if self.is_running():
            return state
        self._clear_stale_lock(state)
        logfile = Path(state.datadir) / "server.log"
        # Another program (or another cluster starting at the same moment) may take the port between
        # the check and the bind: then try the next free one.
        for attempt in range(3):
            if not port_is_free(state.port):
                state.port = free_port(state.port + 1)
                self._save_state(state)
            opts = f"-p {state.port} -k {state.socket_dir} -c listen_addresses=127.0.0.1"
            try:
                _run(
                    [
                        str(Path(state.bindir) / "pg_ctl"),
                        "start",
                        "-w",
                        "-t",
                        "60",
                        "-D",
                        state.datadir,
                        "-l",
                        str(logfile),
                        "-o",
                        opts,
                    ]
                )
                return state
            except DatabaseUnavailable:
                if attempt == 2 or "already in use" not in _tail(logfile):
                    raise
                state.port = free_port(state.port + 1)
                self._save_state(state)
        return state

    def stop(self) -> None:
        state = self.load_state()
        if state and self.is_running():
            _run([str(Path(state.bindir) / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", state.datadir])

    def destroy(self) -> None:
        """Stop and delete the cluster (used for throwaway test clusters)."""
        state = self.load_state()
        self.stop()
        if state:
            shutil.rmtree(state.datadir, ignore_errors=True)
            shutil.rmtree(state.socket_dir, ignore_errors=True)
        self.state_file.unlink(missing_ok=True)

    def wait_ready(self, timeout: float = 30) -> None:
        state = self.load_state()
        assert state
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (
                _run(
                    [str(Path(state.bindir) / "pg_isready"), "-h", "127.0.0.1", "-p", str(state.port)],
                    check=False,
                ).returncode
                == 0
            ):
                return
            time.sleep(0.2)
        raise DatabaseUnavailable("Le serveur PostgreSQL local ne répond pas.")


def database_urls(settings: Settings, start: bool = False) -> tuple[str, str]:
    """(application URL, migration URL): from ``OBS_DATABASE_URL`` or from the local cluster."""
    if settings.database_url:
        admin = settings.admin_database_url or settings.database_url
        return settings.database_url, admin
    cluster = LocalCluster(settings.home)
    state = cluster.start() if start else cluster.load_state()
    if state is None:
        raise DatabaseUnavailable(
            "Aucune base configurée : lancez `observatoire db start` ou définissez OBS_DATABASE_URL."
        )
    return state.url(APP_ROLE), state.url(OWNER_ROLE)
