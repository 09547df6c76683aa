"""The three OGC API servers of bench/ogc.py: this API, TiPg and pygeoapi, each a subprocess.

Why subprocesses in venvs of their own: the peers come from PyPI at bench time (never into the
project's environment, never into the repository), each with its own dependency pins, and every
server runs the way its users run it: under uvicorn with the same number of worker processes,
bound to 127.0.0.1, reaching the same PostGIS over the same loopback TCP URL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from api.pygeoapi_config import build, write, write_openapi
from layers.catalogue import get

BENCH = Path(__file__).resolve().parent
VENVS = BENCH / "out" / "venvs"
PROJECT_BIN = Path(sys.executable).parent
PEER_PACKAGES = {
    "tipg": ["tipg", "uvicorn"],
    # Not dependencies of pygeoapi itself: its PostgreSQL provider needs psycopg2 and GeoAlchemy2,
    # its Starlette app needs starlette.
    "pygeoapi": ["pygeoapi", "psycopg2-binary", "geoalchemy2", "uvicorn", "starlette"],
    "tools": ["py-spy"],
}
CQL = "A_CONTAINS(commodities,('copper'))"
# uvicorn --workers N binds the listening socket itself with proto 0, so asyncio does not set
# TCP_NODELAY on accepted connections and every keep-alive response after the first waits
# ~40 ms for the client's delayed ACK (Kludex/uvicorn#3149). Unless --no-nodelay, every server
# gets this shim (a sitecustomize on PYTHONPATH) so that the listener, and thus each accepted
# connection (Linux copies the option), has TCP_NODELAY; the servers' own code is unchanged.
NODELAY_SHIM = """\
import socket

try:
    from uvicorn.config import Config
except ImportError:
    Config = None

if Config is not None:
    _bind_socket = Config.bind_socket

    def bind_socket(self):
        sock = _bind_socket(self)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    Config.bind_socket = bind_socket
"""


@dataclass
class Server:
    """How to start one server and the path (template) of each query, or why it cannot run it."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    paths: dict[str, str]
    why: dict[str, str] = field(default_factory=dict)  # query -> known cause if it fails
    missing: dict[str, str] = field(default_factory=dict)  # query -> reason it is n/a
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv(name: str) -> Path:
    """A venv under bench/out/venvs with the peer's packages from PyPI; installed once, kept."""
    folder = VENVS / name
    stamp = folder / "installed.json"
    packages = PEER_PACKAGES[name]
    if stamp.exists() and json.loads(stamp.read_text()) == packages:
        return folder
    print(f"installing {' '.join(packages)} into {folder}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, *packages], check=True)
    stamp.write_text(json.dumps(packages))
    return folder


def version(folder: Path, package: str) -> str:
    done = subprocess.run(
        [str(folder / "bin" / "python"), "-m", "pip", "show", package],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = [line.split(":", 1)[1].strip() for line in done.stdout.splitlines()
             if line.startswith("Version:")]  # fmt: skip
    return found[0] if found else "?"


def uvicorn(folder: Path, app: str, port: int, workers: int) -> list[str]:
    """uvicorn's defaults otherwise: the peers as they ship (access log on; ``emining serve``
    logs no requests unless ``--access-log``, and runs here as its users run it)."""
    return [
        str(folder / "bin" / "uvicorn"), app, "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip


def emining(url: str, workers: int) -> Server:
    port = free_port()
    return Server(
        "emining",
        [str(PROJECT_BIN / "emining"), "serve", "--no-samples", "--port", str(port),
         "--workers", str(workers)],
        # One load generator on loopback stands for many clients: lift the per-caller and
        # per-address limits (api.guard), which would otherwise answer most of it with 429.
        {"DATABASE_URL": url, "EMINING_PER_CALLER": "100000", "EMINING_PER_ADDRESS": "100000"},
        port,
        {
            "bbox": "/collections/deposits/items?f=json&limit=100&bbox={bbox}",
            "item": "/collections/deposits/items/{id}?f=json",
            "cql2": "/collections/deposits/items?f=json&limit=100&bbox={bbox}"
            f"&filter-lang=cql2-text&filter={quote(CQL)}",
        },
    )  # fmt: skip


def tipg(url: str, workers: int) -> Server:
    port = free_port()
    return Server(
        "TiPg",
        uvicorn(venv("tipg"), "tipg.main:app", port, workers),
        {
            "DATABASE_URL": url,
            "TIPG_DB_SCHEMAS": '["public"]',
            "TIPG_DB_TABLES": '["public.deposits"]',
            "TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS": '["public"]',
            "TIPG_DB_FUNCTIONS": "[]",
        },
        port,
        {
            "bbox": "/collections/public.deposits/items?f=geojson&limit=100&bbox={bbox}",
            "item": "/collections/public.deposits/items/{id}?f=geojson",
            "cql2": "/collections/public.deposits/items?f=geojson&limit=100&bbox={bbox}"
            f"&filter-lang=cql2-text&filter={quote(CQL)}",
        },
    )


def pygeoapi_config(url: str, port: int, folder: Path) -> tuple[Path, Path]:
    """pygeoapi's config (the deposits collection, as ``emining pygeoapi-config`` writes it) and
    its generated OpenAPI document."""
    config = build(url, f"http://127.0.0.1:{port}", layers=[get("deposits")], log_level="ERROR")
    config_path, openapi_path = folder / "pygeoapi.yml", folder / "pygeoapi-openapi.yml"
    write(config, config_path)  # 0600: it holds the throwaway cluster's password
    write_openapi(config_path, openapi_path, venv("pygeoapi") / "bin" / "pygeoapi")
    return config_path, openapi_path


def pygeoapi(url: str, workers: int, folder: Path) -> Server:
    port = free_port()
    config, openapi = pygeoapi_config(url, port, folder)
    return Server(
        "pygeoapi",
        uvicorn(venv("pygeoapi"), "pygeoapi.starlette_app:APP", port, workers),
        {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)},
        port,
        {
            "bbox": "/collections/deposits/items?f=json&limit=100&bbox={bbox}",
            "item": "/collections/deposits/items/{id}?f=json",
            "cql2": "/collections/deposits/items?f=json&limit=100&bbox={bbox}"
            f"&filter-lang=cql-text&filter={quote(CQL)}",
        },
        why={
            "cql2": "pygeoapi parses filter as ECQL (pygeofilter), which has no A_CONTAINS, and "
            "pygeofilter's SQLAlchemy backend has no array operators (not even in CQL2-JSON)"
        },
    )


def nodelay_path(folder: Path) -> str:
    """A folder holding the TCP_NODELAY shim as sitecustomize.py, for PYTHONPATH."""
    shim = folder / "nodelay"
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "sitecustomize.py").write_text(NODELAY_SHIM)
    return str(shim)


def start(server: Server, log: Path, ready: str, timeout: float = 120) -> None:
    """Start the server in its own process group and wait until ``ready`` answers 200.

    Each attempt waits for its answer until the deadline: a page that takes longer than a short
    per-request timeout (the map's first /map over a million deposits) would otherwise be asked
    again and again, each abandoned request still running in the server and the database, until
    they crowd each other out.
    """
    env = {**os.environ, **server.env}
    with log.open("w") as out:
        server.process = subprocess.Popen(
            server.command, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=log.parent,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited; see {log}:\n{log.read_text()[-2000:]}")
        try:
            left = max(1.0, deadline - time.monotonic())
            with urllib.request.urlopen(server.base + ready, timeout=left) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s; see {log}")


def stop(server: Server) -> None:
    """SIGTERM to the server's process group (uvicorn and its workers), SIGKILL if it lingers."""
    if server.process is None or server.process.poll() is not None:
        return
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


def get_json(url: str) -> tuple[int, dict | str]:
    """Status and body (parsed when it is JSON) of one GET."""
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")[:300]


def worker_pids(server: Server) -> list[int]:
    """The processes serving requests: uvicorn's spawned workers, or the server itself."""
    assert server.process is not None
    children = subprocess.run(
        ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    workers = [
        int(pid)
        for pid in children
        if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    ]
    return workers or [server.process.pid]
