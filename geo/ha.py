"""A highly available store on one machine: etcd ×3, Patroni ×3 (PostgreSQL 15 + PostGIS +
pgRouting), HAProxy and two API processes, all on loopback ports under one folder.

Why these parts: failover is Patroni's (a leader key with a TTL in etcd, promotion of a
synchronous standby only), consensus is etcd's, routing is HAProxy's following Patroni's REST
checks; this module only starts, stops, kills and observes processes (the Debian packages'
binaries), which is what ``emining cluster`` and the tests need. The servers run as the
``postgres`` user when we are root (PostgreSQL refuses root), in a folder made theirs.

Every action and every change of role it observes is appended to ``events.log``; each process
logs its own state changes (Patroni's promotions and demotions, HAProxy's servers going up and
down) under ``log/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import yaml

from geo import db
from geo.embedded import find_bindir
from geo.ha_config import (
    APIS,
    DATABASE,
    ETCD,
    MEMBERS,
    SCOPE,
    Topology,
    etcd_command,
    haproxy_config,
    patroni_config,
)

SERVICE_USER = "postgres"
REPO = Path(__file__).resolve().parents[1]


class HAError(RuntimeError):
    """The cluster could not be started, reached or changed; the message says why."""


@dataclass
class Member:
    """One Patroni member as its REST API describes it (None: not answering)."""

    name: str
    role: str | None
    state: str | None
    timeline: int | None
    sync: bool


class HACluster:
    """The processes of one cluster under ``home`` (created by ``up``, described by ha.json)."""

    def __init__(self, home: Path, parameters: dict[str, str] | None = None):
        self.home = Path(home).resolve()
        self.parameters = parameters or {}
        self.service_user = SERVICE_USER if os.geteuid() == 0 else None
        self._roles: dict[str, str | None] = {}

    # -- state ---------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.home / "ha.json"

    def exists(self) -> bool:
        return self.state_file.exists()

    @property
    def topology(self) -> Topology:
        if not self.exists():
            raise HAError(f"no cluster in {self.home}: run `emining cluster up` first")
        return Topology(**json.loads(self.state_file.read_text()))

    def log(self, event: str, **detail: object) -> None:
        """Append one event (an action taken or a change observed) to events.log."""
        line = {"at": time.strftime("%Y-%m-%dT%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"}
        line |= {"event": event, **detail}
        with (self.home / "events.log").open("a") as out:
            out.write(json.dumps(line) + "\n")

    def _pidfile(self, name: str) -> Path:
        return self.home / "pids" / f"{name}.pid"

    def pid(self, name: str) -> int | None:
        """The process we started as ``name``, if it is still alive."""
        try:
            pid = int(self._pidfile(name).read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        try:  # a zombie child of this process is dead too
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return None
        except ChildProcessError:
            pass
        try:  # and so is one left for an init that has not reaped it yet
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return None
        except (FileNotFoundError, IndexError):
            return None
        return pid

    # -- life cycle ----------------------------------------------------------------------------
    def up(self, samples: bool = True, apis: bool = True, timeout: float = 180) -> Topology:
        """Create (first time) and start every process; return when writes and reads work."""
        first = not self.exists()
        if first:
            self.home.mkdir(parents=True, exist_ok=True)
            for sub in ("log", "pids", "etcd", *MEMBERS):
                (self.home / sub).mkdir(exist_ok=True)
            topology = Topology.new(self.home, self.parameters)
            self.state_file.write_text(json.dumps(topology.as_dict(), indent=2))
            self.state_file.chmod(0o600)
            self._check_reachable()
        topology = self.topology
        self._write_configs(topology)
        self._own(self.home)
        deadline = time.monotonic() + timeout
        for name in ETCD:
            self.start_etcd(name)
        self.wait(lambda: all(self.etcd_healthy(n) for n in ETCD), deadline, "etcd quorum")
        for member in MEMBERS:
            self.start_member(member)
        self.start_process("haproxy", ["haproxy", "-db", "-f", str(self.home / "haproxy.cfg")])
        self.wait(lambda: self.leader() is not None, deadline, "a Patroni leader")
        self.wait(lambda: self.accepts_writes(), deadline, "the read-write port")
        if first:
            self._create_store(topology, samples)
        self.wait_replicas(len(MEMBERS) - 1, deadline)
        if apis:
            for name in APIS:
                self.start_api(name)
            self.wait(lambda: all(self.api_ready(n) for n in APIS), deadline, "the API processes")
        self.log("up", leader=self.leader())
        return topology

    def down(self) -> list[str]:
        """Stop every process we started; returns the names stopped.

        In stages, each stopped in parallel: the API processes and HAProxy, the replicas, the
        primary (last, so that no replica takes over from it), then etcd.
        """
        leader = self.leader() if self.exists() else None
        replicas = [m for m in MEMBERS if m != leader]
        stages = [(*APIS, "haproxy"), tuple(replicas), (leader,) if leader else (), ETCD]
        stopped = []
        for stage in stages:
            stopped += self.stop(*stage)
        self.log("down", stopped=stopped)
        return stopped

    def destroy(self) -> None:
        import shutil

        if self.exists():
            self.down()
            sockets = {self.topology.sockdir(m).parent for m in MEMBERS}
        else:
            sockets = set()
        shutil.rmtree(self.home, ignore_errors=True)
        for folder in sockets:
            shutil.rmtree(folder, ignore_errors=True)

    # -- processes -----------------------------------------------------------------------------
    def start_process(self, name: str, args: list[str], env: dict | None = None, service=True):
        """Start ``args`` detached (its own session), logging to log/<name>.log."""
        if self.pid(name) is not None:
            return
        kwargs: dict = {}
        if service and self.service_user is not None:
            entry = pwd.getpwnam(self.service_user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        logfile = self.home / "log" / f"{name}.log"
        with logfile.open("ab") as out:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.home if service else REPO,
                env=env,
                start_new_session=True,
                **kwargs,
            )
        self._own(logfile)
        self._pidfile(name).write_text(str(process.pid))
        self.log("start", process=name, pid=process.pid)

    def start_etcd(self, name: str) -> None:
        self.start_process(name, etcd_command(self.topology, name))

    def start_member(self, member: str) -> None:
        self.start_process(member, ["patroni", str(self.home / member / "patroni.yml")])

    def start_api(self, name: str) -> None:
        topology = self.topology
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "EMINING_HOME")}
        env |= {"DATABASE_URL": topology.write_url, "DATABASE_READ_URL": topology.read_url}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        port = str(topology.api[name])
        args = [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", port]
        self.start_process(name, [*args, "--no-samples"], env=env, service=False)

    def stop(self, *names: str, timeout: float = 30) -> list[str]:
        """SIGTERM, then SIGKILL after ``timeout``; Patroni stops its PostgreSQL itself."""
        pids = {name: pid for name in names if (pid := self.pid(name)) is not None}
        for pid in pids.values():
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(self.pid(n) is not None for n in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        for name, pid in pids.items():
            if self.pid(name) is not None:
                os.killpg(pid, signal.SIGKILL)
            if name in MEMBERS:  # a Patroni killed in its shutdown may leave its server running
                self._kill_postmaster(name, signal.SIGINT)
            self.log("stop", process=name, pid=pid)
        return list(pids)

    def kill(self, member: str) -> None:
        """A crash of the member's machine: SIGKILL to Patroni and to every PostgreSQL process."""
        pid = self.pid(member)
        if pid is not None:
            os.killpg(pid, signal.SIGKILL)
        postmaster = self._kill_postmaster(member, signal.SIGKILL)
        self.log("kill -9", process=member, patroni=pid, postmaster=postmaster)

    def postmaster(self, member: str) -> int | None:
        try:
            pid = int((self.topology.datadir(member) / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, IndexError, ProcessLookupError, PermissionError):
            return None

    def _kill_postmaster(self, member: str, how: signal.Signals) -> int | None:
        pid = self.postmaster(member)
        if pid is not None:
            try:  # Patroni starts it in a session of its own: the group holds every backend
                group = os.getpgid(pid)
                if how == signal.SIGKILL and group != os.getpgid(0):
                    os.killpg(group, how)
                else:
                    os.kill(pid, how)  # SIGINT: a fast shutdown, run by the postmaster
            except ProcessLookupError:
                return None
        return pid

    # -- observation ---------------------------------------------------------------------------
    def rest(self, member: str, path: str = "/patroni", timeout: float = 3.0) -> dict | None:
        answer = _get(f"http://127.0.0.1:{self.topology.rest[member]}{path}", timeout)
        return answer[1] if answer else None

    def members(self) -> list[Member]:
        found = []
        for name in MEMBERS:
            answer = self.rest(name) or {}
            found.append(
                Member(
                    name,
                    answer.get("role"),
                    answer.get("state"),
                    answer.get("timeline"),
                    bool(answer.get("sync_standby")),
                )
            )
        self._note_roles(found)
        return found

    def _note_roles(self, members: list[Member]) -> None:
        for member in members:
            now = f"{member.role}/{member.state}" if member.role else None
            if self._roles.get(member.name, "?") != now:
                self.log("observed", member=member.name, role=now, sync=member.sync)
                self._roles[member.name] = now

    def leader(self) -> str | None:
        """The member that is primary and running, by its own REST answer."""
        leaders = [m.name for m in self.members() if m.role in ("primary", "master")
                   and m.state == "running"]  # fmt: skip
        return leaders[0] if len(leaders) == 1 else None

    def replicas(self, sync: bool = True) -> list[str]:
        return [m.name for m in self.members() if m.role == "replica" and m.state in
                ("running", "streaming") and (m.sync or not sync)]  # fmt: skip

    def etcd_healthy(self, name: str) -> bool:
        answer = _get(f"http://127.0.0.1:{self.topology.etcd_client[name]}/health", 1.0)
        return bool(answer) and answer[1].get("health") == "true"

    def api_ready(self, name: str) -> bool:
        answer = _get(f"http://127.0.0.1:{self.topology.api[name]}/healthz", 2.0)
        return bool(answer) and answer[0] == 200

    def wait_replicas(self, count: int, deadline: float) -> None:
        self.wait(lambda: len(self.replicas()) >= count, deadline, f"{count} synchronous replicas")

    def wait(self, ready: Callable[[], bool], deadline: float, what: str) -> None:
        while not ready():
            if time.monotonic() > deadline:
                raise HAError(f"timed out waiting for {what}; see {self.home / 'log'}")
            time.sleep(0.2)

    def status(self) -> dict:
        topology = self.topology
        processes = {name: self.pid(name) for name in (*ETCD, *MEMBERS, "haproxy", *APIS)}
        return {
            "home": str(self.home),
            "processes": processes,
            "etcd": {name: self.etcd_healthy(name) for name in ETCD},
            "members": [m.__dict__ for m in self.members()],
            "write_url": topology.write_url,
            "read_url": topology.read_url,
            "api": topology.api_url,
        }

    def patronictl(self, *args: str) -> subprocess.CompletedProcess:
        """``patronictl`` against this cluster (e.g. ``list``, ``switchover``)."""
        config = str(self.home / MEMBERS[0] / "patroni.yml")
        return subprocess.run(
            ["patronictl", "-c", config, *args], capture_output=True, text=True, timeout=120
        )

    # -- helpers -------------------------------------------------------------------------------
    def _write_configs(self, topology: Topology) -> None:
        bindir = find_bindir()
        for member in MEMBERS:
            path = self.home / member / "patroni.yml"
            path.write_text(yaml.safe_dump(patroni_config(topology, member, bindir)))
            path.chmod(0o600)
            topology.sockdir(member).mkdir(parents=True, exist_ok=True)
            self._own(topology.sockdir(member).parent, recursive=True)
        (self.home / "haproxy.cfg").write_text(haproxy_config(topology))

    def accepts_writes(self) -> bool:
        try:
            with psycopg.connect(self.topology.url(self.topology.rw, "postgres"),
                                 connect_timeout=2) as conn:  # fmt: skip
                return not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        except psycopg.Error:
            return False

    def _create_store(self, topology: Topology, samples: bool) -> None:
        with psycopg.connect(topology.url(topology.rw, "postgres"), autocommit=True) as conn:
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            if not conn.execute(query, [DATABASE]).fetchone():
                conn.execute(f'CREATE DATABASE "{DATABASE}"')
        db.migrate(topology.write_url)
        self.log("migrated", scope=SCOPE)
        if samples:
            from geo.load import load_samples

            with psycopg.connect(topology.write_url, autocommit=True) as conn:
                load_samples(conn)
            self.log("samples loaded")

    def _check_reachable(self) -> None:
        if self.service_user is None:
            return
        probe = subprocess.run(["test", "-x", str(self.home.parent)], user=self.service_user)
        if probe.returncode != 0:
            raise HAError(
                f"the {self.service_user} user cannot reach {self.home.parent}: choose a folder "
                "it can traverse, e.g. --home /var/lib/emining-ha"
            )

    def _own(self, path: Path, recursive: bool = True) -> None:
        if self.service_user is None:
            return
        entry = pwd.getpwnam(self.service_user)
        for item in [path, *(path.rglob("*") if recursive and path.is_dir() else [])]:
            with contextlib.suppress(FileNotFoundError):
                os.chown(item, entry.pw_uid, entry.pw_gid)
        for member in MEMBERS:  # PostgreSQL insists on 0700 data folders
            data = self.home / member / "data"
            if data.exists():
                data.chmod(0o700)


# Loopback only: no proxy from the environment may stand in between.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, timeout: float) -> tuple[int, dict] | None:
    """(status, JSON body) of a GET, or None when nothing answered with JSON (stdlib only:
    ``emining cluster`` runs where only the platform's dependencies are installed)."""
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"{}")
        except ValueError:
            return error.code, {}
    except (OSError, ValueError):
        return None
