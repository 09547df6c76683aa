"""Where ``emining load`` spends its time: the stages of ``geo.load.load_file``, timed in-process.

Why by wrapping rather than by copying the loader: the timers wrap the functions ``load_file``
calls (``read_file``, ``check``, ``copy.to_arrow``, ``copy.render_csv``,
``copy.indexes_deferred`` ...) and the statements it sends (TRUNCATE, each index rebuild,
ANALYZE, COMMIT) while the real ``load_file`` runs, so the figures follow geo/ as it changes and
nothing in geo/ is edited. It times the bulk path (a big file into an empty table), where
the check of one chunk overlaps the server's COPY of the last: the stages under
``_stream_into_empty`` are Python's time, and "end of COPY" is what the server still had to do.

Each stage shows wall seconds, this process's CPU seconds (all its threads) and the server's CPU
seconds (every process of the throwaway cluster, parallel index-build workers included; not
shown with ``--url``). Wall above client + server CPU means waiting: for the disk, or for a core
(the machine has 2, and other work on it skews every figure). Each run loads into a fresh,
migrated database, so runs do not see each other's rows; the digests printed at the end show
whether two runs stored the same rows and indexes.

    python bench/stages.py bench/out/deposits-1000000-seed42.gpkg
    python bench/stages.py FILE --setting maintenance_work_mem=256MB
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(BENCH.parent))

import geo.copy  # noqa: E402
import geo.load  # noqa: E402
import geo.validate  # noqa: E402
from bench.cpu import server_cpu  # noqa: E402
from geo import db  # noqa: E402
from geo.embedded import Cluster  # noqa: E402
from geo.models import LAYERS  # noqa: E402

READ = "read_file (pyogrio, Arrow)"
CHECK = "  check (every row, chunk by chunk)"
CONVERT = "    _convert (attribute columns)"
ISNULL = "      of which _isnull"
LISTS = "      of which _lists (commodities)"
GEOMETRY = "    _check_geometry (+ hex EWKB)"
CHECK_REST = "    renames, problems (remainder)"
HILBERT = "Hilbert sort, is_empty (remainder of load_file)"
WRITE = "_stream_into_empty (in the transaction)"
TO_ARROW = "  copy.to_arrow (chunk -> Arrow)"
ARRAYS = "    of which array_literals"
TRUNCATE = "  TRUNCATE (empty table, skips WAL)"
DROP = "  indexes_deferred: read and drop indexes"
RENDER = "  render_csv (Arrow CSV)"
COPY_WRITE = "  Copy.write (queue the chunk)"
COPY_END = "  end of COPY (wait for the server)"
REBUILD = "  indexes_deferred: rebuild"
WRITE_REST = "  duplicate keys, slicing, progress (remainder)"
ANALYZE = "ANALYZE"
COMMIT = "COMMIT (flush WAL, sync skipped-WAL files)"
TOTAL = "load_file total"
INDEX = "    "  # prefix of one rebuilt index's label, e.g. "    deposits_name_key unique (name)"

# (module or class, attribute, label): wrapped while load_file runs.
WRAPPED: list[tuple[Any, str, str]] = [
    (geo.load, "read_file", READ),
    (geo.load, "check", CHECK),
    (geo.validate, "_convert", CONVERT),
    (geo.validate, "_isnull", ISNULL),
    (geo.validate, "_lists", LISTS),
    (geo.validate, "_check_geometry", GEOMETRY),
    (geo.load, "_stream_into_empty", WRITE),
    (geo.copy, "to_arrow", TO_ARROW),
    (geo.copy, "array_literals", ARRAYS),
    (geo.copy, "render_csv", RENDER),
    (psycopg.Copy, "write", COPY_WRITE),
    (psycopg.Copy, "__exit__", COPY_END),
]
ORDER = [
    READ,
    HILBERT,
    WRITE,
    TRUNCATE,
    DROP,
    CHECK,
    CONVERT,
    ISNULL,
    LISTS,
    GEOMETRY,
    CHECK_REST,
    TO_ARROW,
    ARRAYS,
    RENDER,
    COPY_WRITE,
    COPY_END,
    REBUILD,  # followed by one line per rebuilt index, in rebuild order
    WRITE_REST,
    ANALYZE,
    COMMIT,
    TOTAL,
]
SHOWN = ("wal_level", "maintenance_work_mem", "max_parallel_maintenance_workers", "work_mem")
CREATE_INDEX = re.compile(r"CREATE (UNIQUE )?INDEX (\S+) ON \S+ USING (\w+) \((.*)\)")
ADD_CONSTRAINT = re.compile(r'ADD CONSTRAINT "?([^"\s]+)"? (\w+(?: KEY)?) \((.*)\)')


Clock = Callable[[], float | None]


class Stopwatch:
    """Per label, summed over calls: wall, client CPU and server CPU seconds."""

    def __init__(self, server: Clock = lambda: None) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.server: dict[str, float] = defaultdict(float)
        self._server = server

    @contextmanager
    def time(self, label: str) -> Iterator[None]:
        started, cpu, server = time.perf_counter(), time.process_time(), self._server()
        try:
            yield
        finally:
            self.seconds[label] += time.perf_counter() - started
            self.cpu[label] += time.process_time() - cpu
            if server is not None and (now := self._server()) is not None:
                self.server[label] += now - server

    @contextmanager
    def wrapping(self, owner: Any, name: str, label: str) -> Iterator[None]:
        """Replace ``owner.name`` by a timed wrapper for the duration of the block."""
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.time(label):
                return original(*args, **kwargs)

        setattr(owner, name, timed)
        try:
            yield
        finally:
            setattr(owner, name, original)

    @contextmanager
    def deferring(self) -> Iterator[None]:
        """Time ``geo.copy.indexes_deferred`` in two parts: before the COPY, and after it."""
        original = geo.copy.indexes_deferred

        @contextmanager
        def timed(conn: Any, table: str) -> Iterator[None]:
            manager = original(conn, table)
            with self.time(DROP):
                manager.__enter__()
            try:
                yield
            except BaseException as error:
                if not manager.__exit__(type(error), error, error.__traceback__):
                    raise
            else:
                with self.time(REBUILD):
                    manager.__exit__(None, None, None)

        geo.copy.indexes_deferred = timed
        try:
            yield
        finally:
            geo.copy.indexes_deferred = original


class TimedConnection:
    """A psycopg connection that times some statements and the outermost commit."""

    def __init__(self, conn: psycopg.Connection, watch: Stopwatch):
        self._conn, self._watch = conn, watch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, query: Any, *args: Any, **kwargs: Any) -> psycopg.Cursor:
        text = query.as_string(self._conn) if isinstance(query, sql.Composable) else str(query)
        label = _statement_label(text)
        with self._watch.time(label) if label else nullcontext():
            return self._conn.execute(query, *args, **kwargs)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        transaction = self._conn.transaction()
        transaction.__enter__()
        try:
            yield
        except BaseException as error:
            if not transaction.__exit__(type(error), error, error.__traceback__):
                raise
        else:
            with self._watch.time(COMMIT):
                transaction.__exit__(None, None, None)


def _statement_label(text: str) -> str | None:
    """The label a statement's time goes to: ANALYZE, TRUNCATE, or one index's rebuild."""
    if text.startswith("ANALYZE"):
        return ANALYZE
    if text.startswith("TRUNCATE"):
        return TRUNCATE
    if match := CREATE_INDEX.match(text):
        unique, name, method, columns = match.groups()
        return f"{INDEX}{name.split('.')[-1]} {'unique ' if unique else ''}{method} ({columns})"
    if match := ADD_CONSTRAINT.search(text):
        name, kind, columns = match.groups()
        return f"{INDEX}{name} {kind.lower()} ({columns})"
    return None


@dataclass
class StageRun:
    """Seconds per stage, and digests that show whether two runs stored the same thing."""

    stages: dict[str, float]  # wall
    cpu: dict[str, float]  # this process, all threads
    server: dict[str, float] | None  # every process of the cluster; None when not measured
    rows_digest: str  # every column but updated_at, rows in id (= physical load) order
    schema_digest: str  # the table's indexes and constraints


def time_stages(
    url: str, path: Path, title: str = "geo/ as it is", datadir: Path | None = None
) -> StageRun:
    """Run the real ``load_file`` once into a fresh database; print and return its stages.

    ``datadir``: the cluster's data folder, to read the server's CPU seconds (Linux /proc).
    """
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    target = url.replace("/emining?", f"/{name}?", 1)
    try:
        db.migrate(target)
        watch = Stopwatch((lambda: server_cpu(datadir)) if datadir else lambda: None)
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
            settings = {s: conn.execute(f"SHOW {s}").fetchone()[0] for s in SHOWN}
            with ExitStack() as stack:
                for owner, attribute, label in WRAPPED:
                    stack.enter_context(watch.wrapping(owner, attribute, label))
                stack.enter_context(watch.deferring())
                with watch.time(TOTAL):
                    report = geo.load.load_file(TimedConnection(conn, watch), path, "deposits")
            run = StageRun(
                _with_remainders(watch.seconds),
                _with_remainders(watch.cpu),
                _with_remainders(watch.server) if datadir else None,
                *_digests(conn, "deposits"),
            )
        _print(run, report.rows, title, settings)
        return run
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")


def _digests(conn: psycopg.Connection, layer: str) -> tuple[str, str]:
    columns = [c.name for c in LAYERS[layer].__table__.columns if c.name != "updated_at"]
    rows = sql.SQL("SELECT md5(string_agg(row({c})::text, E'\\n' ORDER BY id)) FROM {t}").format(
        c=sql.SQL(", ").join(map(sql.Identifier, columns)), t=sql.Identifier(layer)
    )
    schema = """SELECT md5(string_agg(d, E'\\n' ORDER BY d)) FROM (
        SELECT pg_get_indexdef(indexrelid) AS d FROM pg_index WHERE indrelid = %(t)s::regclass
        UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = %(t)s::regclass) AS defs"""
    return (
        conn.execute(rows).fetchone()[0],
        conn.execute(schema, {"t": layer}).fetchone()[0],
    )


def _with_remainders(seconds: dict[str, float]) -> dict[str, float]:
    """Every label of ORDER (remainders computed) with the per-index lines under the rebuild."""
    stages = {label: seconds.get(label, 0.0) for label in ORDER}
    indexes = {label: s for label, s in seconds.items() if label.startswith(INDEX)}
    stages[CHECK_REST] = stages[CHECK] - stages[CONVERT] - stages[GEOMETRY]
    inside_write = (CHECK, TO_ARROW, TRUNCATE, DROP, RENDER, COPY_WRITE, COPY_END, REBUILD)
    stages[WRITE_REST] = stages[WRITE] - sum(stages[label] for label in inside_write)
    top = (READ, WRITE, ANALYZE, COMMIT)
    stages[HILBERT] = stages[TOTAL] - sum(stages[label] for label in top)
    at = list(stages).index(REBUILD) + 1  # the per-index lines go under the rebuild
    items = list(stages.items())
    return dict(items[:at] + list(indexes.items()) + items[at:])


def _print(run: StageRun, rows: int, title: str, settings: dict[str, str]) -> None:
    stages = run.stages
    total = stages[TOTAL]
    load = os.getloadavg()[0]
    print(f"\nstages of geo.load.load_file, {rows:,} rows ({title})")
    print("server: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    print(f"{os.cpu_count()} CPUs; 1-minute load average {load:.1f} after the run")
    server = f" {'server CPU':>10}" if run.server else ""
    print(f"{'stage':<52} {'seconds':>8} {'share':>6} {'client CPU':>10}" + server)
    for label, seconds in stages.items():
        print(
            f"{label:<52} {seconds:>8.2f} {100 * seconds / total:>5.0f}%"
            f" {run.cpu[label]:>10.2f}" + (f" {run.server[label]:>10.2f}" if run.server else "")
        )
    print(f"{'rows/s (load_file only)':<52} {rows / total:>8,.0f}")
    print(f"digests: rows {run.rows_digest[:12]}, indexes and constraints {run.schema_digest[:12]}")


def add_setting_option(parser: argparse.ArgumentParser) -> None:
    """``--setting NAME=VALUE`` (repeatable), shared with bench/load.py."""
    parser.add_argument(
        "--setting",
        type=parse_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting for the throwaway cluster, on top of geo/embedded.py's (repeatable)",
    )


def parse_setting(text: str) -> tuple[str, str]:
    """``name=value`` as ``(name, value)``; the value quoted for postgresql.conf."""
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[a-z_]+", name):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value if re.fullmatch(r"-?\d+", value) else "'" + value.strip("'") + "'"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="a deposits file (e.g. from bench/load.py)")
    parser.add_argument("--url", help="a cluster's socket URL; default: a throwaway cluster")
    add_setting_option(parser)
    parser.add_argument("--runs", type=int, default=1, help="load the file this many times")
    args = parser.parse_args(argv)

    def run(url: str, datadir: Path | None = None) -> None:
        for number in range(args.runs):
            title = "geo/ as it is" + (f", run {number + 1}" if args.runs > 1 else "")
            if args.setting:
                title += "; " + ", ".join(f"{k}={v}" for k, v in args.setting)
            time_stages(url, args.path, title, datadir)

    if args.url:
        run(args.url)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so ``finally`` removes the cluster
    home = Path(tempfile.mkdtemp(prefix="emining-bench-", dir="/tmp"))
    cluster = Cluster(home, extra_settings=dict(args.setting))
    try:
        cluster.start()
        run(cluster.url(), cluster.datadir)
    finally:
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
