"""The embedded default: a private PostgreSQL + PostGIS cluster under ``$EMINING_HOME``.

Why: a geologist should get a working platform with one command and no database administration.
The cluster lives in a folder of its own (``.data/`` by default), listens on a Unix socket in that
folder and on a loopback port (for GDAL, QGIS and other tools), and keeps its data across restarts.

PostgreSQL refuses to run as root, so when we are root the server runs as the ``postgres`` system
user (created by Debian's postgresql package) and the folder is made theirs. Connections over the
socket are trusted (the socket folder is private to the server's user, and root); connections over
TCP need the password stored in ``cluster.json`` (mode 0600).
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from geo.settings import current as current_settings

SUPERUSER = "emining"
DATABASE = "emining"
SERVICE_USER = "postgres"


class ClusterError(RuntimeError):
    """The embedded cluster could not be created, started or stopped; the message says why."""


def find_bindir(
    datadir: Path | None = None,
    lib: Path = Path("/usr/lib/postgresql"),
    share: Path = Path("/usr/share/postgresql"),
) -> Path:
    """PostgreSQL's server binaries: ``$EMINING_PG_BINDIR``; else the major that made the existing
    cluster in ``datadir`` (another major's server refuses its files); else the newest major with
    PostGIS installed (the one ``scripts/install-system-deps.sh`` installs: whatever the
    distribution offers, 15 on Debian 12, 16 on Ubuntu 24.04); else the newest; else ``initdb`` on
    the PATH."""
    if chosen := current_settings().pg_bindir:
        return chosen
    majors = sorted(
        (int(p.parent.name) for p in lib.glob("*/bin") if p.parent.name.isdigit()),
        reverse=True,
    )
    majors = [m for m in majors if (lib / str(m) / "bin" / "initdb").exists()]
    made_by = datadir / "PG_VERSION" if datadir is not None else None
    if made_by is not None and made_by.exists():
        major = made_by.read_text().strip()
        if (lib / major / "bin" / "initdb").exists():
            return lib / major / "bin"
        raise ClusterError(
            f"the cluster in {datadir.parent} was made by PostgreSQL {major}, whose server is not "
            f"installed here (found: {', '.join(map(str, majors)) or 'none'}); install "
            f"postgresql-{major} or set EMINING_PG_BINDIR"
        )
    with_postgis = [m for m in majors if (share / f"{m}/extension/postgis.control").exists()]
    if with_postgis or majors:
        return lib / str((with_postgis or majors)[0]) / "bin"
    if initdb := shutil.which("initdb"):
        return Path(initdb).resolve().parent
    raise ClusterError(
        "PostgreSQL server binaries not found: install postgresql-N and postgresql-N-postgis-3 "
        "(scripts/install-system-deps.sh does), set EMINING_PG_BINDIR, or set DATABASE_URL to "
        "use another server"
    )


def default_home() -> Path:
    """``$EMINING_HOME`` (see geo/settings.py), ``.data`` in the working directory by default."""
    return current_settings().home


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Cluster:
    """One private PostgreSQL cluster: a data folder, a socket folder, a port and a password."""

    home: Path = field(default_factory=default_home)
    extra_settings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home = Path(self.home).resolve()
        self.bindir = find_bindir(self.datadir)
        self.service_user = SERVICE_USER if os.geteuid() == 0 else None

    # -- paths ---------------------------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        return self.home / "pgdata"

    @property
    def logfile(self) -> Path:
        return self.home / "postgres.log"

    @property
    def config_file(self) -> Path:
        return self.home / "cluster.json"

    @property
    def rundir(self) -> Path:
        """The socket folder; socket paths are limited to ~107 bytes, so long homes use /tmp."""
        rundir = self.home / "run"
        if len(str(rundir)) > 80:
            digest = hashlib.sha1(str(self.home).encode()).hexdigest()[:12]
            rundir = Path(tempfile.gettempdir()) / f"emining-{digest}"
        return rundir

    # -- state ---------------------------------------------------------------------------------
    def exists(self) -> bool:
        return (self.datadir / "PG_VERSION").exists() and self.config_file.exists()

    def config(self) -> dict:
        if not self.config_file.exists():
            raise ClusterError(f"no cluster in {self.home}: run `emining db start` first")
        return json.loads(self.config_file.read_text())

    def _save_config(self, config: dict) -> None:
        self.config_file.write_text(json.dumps(config, indent=2))
        self.config_file.chmod(0o600)
        self._give_to_service_user(self.config_file)

    def url(self, tcp: bool = False) -> str:
        """A libpq URI: over the Unix socket by default, or over loopback TCP with the password."""
        config = self.config()
        if tcp:
            return (
                f"postgresql://{SUPERUSER}:{quote(config['password'], safe='')}"
                f"@127.0.0.1:{config['port']}/{DATABASE}"
            )
        return (
            f"postgresql://{SUPERUSER}@/{DATABASE}"
            f"?host={quote(str(self.rundir), safe='')}&port={config['port']}"
        )

    def running(self) -> bool:
        if not self.exists():
            return False
        result = self._run([self.bindir / "pg_ctl", "-D", self.datadir, "status"], check=False)
        return result.returncode == 0

    # -- life cycle ----------------------------------------------------------------------------
    def init(self) -> None:
        """initdb on first use; a no-op when the cluster already exists."""
        if self.exists():
            return
        if self.datadir.exists() and any(self.datadir.iterdir()):
            raise ClusterError(f"{self.datadir} exists but holds no complete cluster: remove it")
        self.home.mkdir(parents=True, exist_ok=True)
        self._check_reachable()
        self.datadir.mkdir(exist_ok=True)
        self.datadir.chmod(0o700)
        self._give_to_service_user(self.home, recursive=True)
        password = secrets.token_urlsafe(18)
        pwfile = self.home / ".pwfile"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        self._give_to_service_user(pwfile)
        try:
            self._run(
                [
                    self.bindir / "initdb",
                    "-D",
                    self.datadir,
                    "-U",
                    SUPERUSER,
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# emining: settings rewritten at every start\ninclude 'emining.conf'\n")
        self._save_config({"port": _free_port(), "password": password})

    def start(self) -> bool:
        """Start the server (creating it if needed); returns False when it was already running."""
        self.init()
        if self.running():
            return False
        config = self.config()
        if not _port_free(config["port"]):
            config["port"] = _free_port()
            self._save_config(config)
        self.rundir.mkdir(parents=True, exist_ok=True)
        self.rundir.chmod(0o700)
        self._give_to_service_user(self.rundir)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(config["port"]),
            "unix_socket_directories": f"'{self.rundir}'",
            "unix_socket_permissions": "0700",
            "shared_buffers": "'256MB'",
            "max_wal_size": "'2GB'",
            # A private single-node cluster needs no replication; minimal WAL lets a bulk load
            # into a table truncated in the same transaction skip the WAL (still crash-safe).
            "wal_level": "minimal",
            "max_wal_senders": "0",
            **self.extra_settings,
        }
        conf = self.datadir / "emining.conf"
        conf.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
        self._give_to_service_user(conf)
        result = self._run(
            [
                self.bindir / "pg_ctl",
                "-D",
                self.datadir,
                "-l",
                self.logfile,
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=False,
        )
        if result.returncode != 0:
            tail = self.logfile.read_text()[-2000:] if self.logfile.exists() else ""
            raise ClusterError(f"PostgreSQL did not start ({result.stderr.strip()}):\n{tail}")
        self._ensure_database()
        return True

    def stop(self) -> bool:
        """Stop the server cleanly (fast shutdown: open transactions roll back, data is kept)."""
        if not self.running():
            return False
        self._run([self.bindir / "pg_ctl", "-D", self.datadir, "-m", "fast", "-w", "stop"])
        return True

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.rmtree(self.rundir, ignore_errors=True)

    # -- helpers -------------------------------------------------------------------------------
    def _ensure_database(self) -> None:
        import psycopg

        admin = self.url().replace(f"/{DATABASE}?", "/postgres?", 1)
        deadline = time.monotonic() + 10
        while True:
            try:
                with psycopg.connect(admin, autocommit=True) as conn:
                    found = conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
                    ).fetchone()
                    if not found:
                        conn.execute(f'CREATE DATABASE "{DATABASE}"')
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _check_reachable(self) -> None:
        """As root, the postgres user must be able to reach the folder (e.g. not under /root)."""
        if self.service_user is None:
            return
        probe = subprocess.run(
            ["test", "-x", str(self.home.parent)], user=self.service_user, check=False
        )
        if probe.returncode != 0:
            raise ClusterError(
                f"the {self.service_user} user cannot reach {self.home.parent}: choose a folder it "
                "can traverse, e.g. EMINING_HOME=/var/lib/emining, or set DATABASE_URL"
            )

    def _give_to_service_user(self, path: Path, recursive: bool = False) -> None:
        if self.service_user is None:
            return
        entry = pwd.getpwnam(self.service_user)
        paths = [path, *(path.rglob("*") if recursive else [])]
        for item in paths:
            os.chown(item, entry.pw_uid, entry.pw_gid)

    def _run(self, args: list, check: bool = True) -> subprocess.CompletedProcess:
        kwargs: dict = {}
        if self.service_user is not None:
            entry = pwd.getpwnam(self.service_user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        result = subprocess.run(
            [str(a) for a in args],
            capture_output=True,
            text=True,
            cwd=self.home,
            check=False,
            **kwargs,
        )
        if check and result.returncode != 0:
            raise ClusterError(f"{Path(str(args[0])).name} failed: {result.stderr.strip()}")
        return result
