"""Map benchmark: time from navigation to the deposits drawn on /map, with 1,000,000 behind it.

Why: the issue's target is < 2 s from navigation to the deposits layer drawn, with a million
deposits in the store (so /map draws them from vector tiles with Leaflet.VectorGrid, not as
embedded GeoJSON). The setup is bench/ogc.py's: the same synthetic GeoPackage, a throwaway
embedded cluster, ``emining load --no-network``, the API as ``emining serve --no-samples`` under
uvicorn with the same workers and TCP_NODELAY shim; the sample provinces and corridors are loaded
beside the synthetic deposits, as a real store would have them. The peer is the sample data alone
(a few deposits, fetched as GeoJSON features) in a second database of the same cluster, served
the same way.

Before and after in one run: ``--before REV`` (default 93fc4fd, main before the
first view stopped counting whole layers) is exported with ``git archive`` to
bench/out/code-REV and served against the same databases, beside this tree; each server's
PYTHONPATH names its code folder explicitly (the venv's editable install points at /work/main,
which is neither). ``--before ''`` skips it.

"Drawn" is the page's own state (api/static/emining-map.js): ``window.eminingReady.deposits``,
set once, with ``at`` = ``performance.now()`` (ms since navigation start) when
- vector tiles: the deposits' VectorGrid fired GridLayer's ``load`` event, i.e. every tile in the
  first view was fetched, decoded and drawn on its canvas (VectorGrid signals a tile done on the
  animation frame after drawing it), with ``tiles`` and ``features`` counted over those tiles;
- GeoJSON (the peer): the features were added to the map (marker cluster or paths).
A run fails unless at least ``--min-features`` features were drawn.

Runs, in a real headless Chromium (/usr/bin/chromium, Playwright; never ``playwright install``):
the first run after the server starts (server's tile cache and the database's buffers cold),
then ``--runs`` cold runs (a fresh browser context each: empty HTTP cache) and ``--runs`` warm
runs (one context navigating to /map again: tiles come from the browser's cache, max-age 30 s,
and from the server's hot-tile cache).

    python bench/map.py                 # ~2 min after the load (the load takes a few minutes)
    python bench/map.py --runs 10 --workers 1
    python bench/map.py --keep /tmp/map-1m   # keep the loaded cluster; later runs start at once
    python bench/map.py --rows 100000 --before ''   # this tree only
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import psycopg

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(BENCH.parent))

from bench import ogc  # noqa: E402
from bench import ogc_servers as servers  # noqa: E402
from geo import db, network  # noqa: E402
from geo.embedded import Cluster  # noqa: E402
from geo.load import SAMPLES, load_samples  # noqa: E402
from tests import chromium  # noqa: E402

OUT = BENCH / "out"
VIEWPORT = {"width": 1280, "height": 800}
TARGET_MS = 2000
EXTRA_LAYERS = ("provinces", "corridors")  # sample layers loaded beside the synthetic deposits
READY = "() => window.eminingReady && window.eminingReady.deposits"
STATE = """() => ({
    ...window.eminingReady.deposits,
    kind: eminingMap.config.layers.find((l) => l.id === "deposits").source.kind,
    resources: [...performance.getEntriesByType("navigation"),
                ...performance.getEntriesByType("resource")].map((e) => ({
        name: e.name, start: e.startTime, end: e.responseEnd, first: e.responseStart,
        bytes: e.transferSize,
    })),
})"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ogc.common_arguments(parser)
    parser.add_argument("--runs", type=int, default=5, help="cold runs, then as many warm ones")
    parser.add_argument("--min-features", type=int, default=1, help="a run drawing fewer fails")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per run before failing")
    parser.add_argument(
        "--ready", type=float, default=600, help="seconds a server may take to answer /map"
    )
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="skip sample data")
    parser.add_argument(
        "--keep", type=Path, help="keep the loaded cluster in this folder and reuse it next time"
    )
    parser.add_argument(
        "--before", default="93fc4fd", help="git revision served beside this tree ('' to skip)"
    )
    args = parser.parse_args(argv)
    args.candidate = []  # bench/ogc.build and machine read it
    return args


def code_folder(revision: str) -> Path:
    """The packages of ``revision`` (api, geo, layers with their static files, and data/ for the
    basemap and samples) in bench/out."""
    root = BENCH.parent
    commit = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", f"{revision}^{{commit}}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    folder = OUT / f"code-{commit}"
    if not (folder / "api").is_dir():
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", commit, "api", "geo", "layers", "data"],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
    return folder


def with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def add_sample_layers(url: str) -> None:
    """The sample provinces and corridors beside the synthetic deposits, by the real CLI; then
    the links, built once here: built by the server's first /map instead (the readiness
    check), a million deposits' links took over 100 s on a busy machine and the check gave up.
    """
    emining = Path(sys.executable).with_name("emining")
    for layer in EXTRA_LAYERS:
        subprocess.run(
            [str(emining), "load", str(SAMPLES / f"{layer}.geojson"), "--layer", layer,
             "--no-network"],
            env={**os.environ, "DATABASE_URL": url}, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    with psycopg.connect(url, autocommit=True) as conn:
        network.build(conn)


@contextmanager
def prepared(path: Path, args: argparse.Namespace) -> Iterator[tuple[Path, str, str]]:
    """The loaded cluster (bench/ogc.py's) with the sample layers and links: (folder, URL,
    versions). With ``--keep DIR`` it is made there once and started again by later runs (the
    links of a million deposits take minutes to build); without, it is removed at the end."""
    if args.keep is None:
        with ogc.loaded_cluster(path, args, "emining-map-") as (home, url, context):
            add_sample_layers(url)
            yield home, url, context
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so ``finally`` still runs
    home, done = args.keep.resolve(), args.keep.resolve() / "bench-ready"
    cluster = Cluster(home)
    try:
        if done.exists():
            print(f"reusing the loaded cluster in {home}", file=sys.stderr)
            cluster.start()
            url = cluster.url(tcp=True)
        else:
            home.mkdir(parents=True, exist_ok=True)
            home.chmod(0o711)  # as root the server runs as postgres, which must reach it
            url = ogc.load(cluster, path)
            add_sample_layers(url)
            done.write_text(f"{path.name}\n")
        yield home, url, ogc.machine(args, url)
    finally:
        cluster.stop()


def samples_database(url: str) -> str:
    """A second database of the cluster holding the sample data only (the peer)."""
    samples = with_database(url, "emining_samples")
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = 'emining_samples'").fetchone():
            return samples  # a kept cluster's (--keep)
        conn.execute("CREATE DATABASE emining_samples")
    db.migrate(samples)
    with psycopg.connect(samples, autocommit=True) as conn:
        load_samples(conn)
    return samples


def counts(url: str) -> str:
    with psycopg.connect(url) as conn:
        found = {
            layer: conn.execute(f"SELECT count(*) FROM {layer}").fetchone()[0]
            for layer in ("deposits", *EXTRA_LAYERS)
        }
    return ", ".join(f"{n:,} {layer}" for layer, n in found.items())


def measure(page, base: str, args: argparse.Namespace) -> dict:
    """One navigation to /map; the page's record of the deposits drawn (see the docstring)."""
    failed: list[str] = []

    def watch(response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("response", watch)
    try:
        page.goto(base + "/map", wait_until="commit", timeout=args.timeout * 1000)
        page.wait_for_function(READY, timeout=args.timeout * 1000)
        state = page.evaluate(STATE)
    finally:
        page.remove_listener("response", watch)
    state["failed"] = failed
    if state["features"] < args.min_features:
        raise RuntimeError(f"only {state['features']} features drawn: {state}")
    return state


def drive(browser, base: str, args: argparse.Namespace) -> dict[str, list[dict]]:
    """The first run, ``--runs`` cold runs (fresh contexts), ``--runs`` warm runs (one context)."""
    runs: dict[str, list[dict]] = {"first": [], "cold": [], "warm": []}
    for kind, count in (("first", 1), ("cold", args.runs)):
        for _ in range(count):
            context = browser.new_context(viewport=VIEWPORT)
            try:
                runs[kind].append(measure(context.new_page(), base, args))
            finally:
                context.close()
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        measure(page, base, args)  # fills the browser's cache
        for _ in range(args.runs):
            runs["warm"].append(measure(page, base, args))
    finally:
        context.close()
    return runs


def serve_and_drive(
    name: str, url: str, code: Path, home: Path, args: argparse.Namespace, browser
) -> dict:
    """One server of ``code`` (a folder holding api, geo, layers) over ``url``, driven."""
    args.candidate = [code]
    server = ogc.build("emining", url, home, args)
    log = OUT / "map" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    servers.start(server, log, ready="/map", timeout=args.ready)
    try:
        print(f"{name}: driving /map", file=sys.stderr)
        return drive(browser, server.base, args)
    finally:
        servers.stop(server)


def waterfall(title: str, run: dict) -> list[str]:
    """One run's requests (Resource Timing) that started before the deposits were drawn: what
    the first view waited for, with the server's time to first byte."""
    lines = [f"{title}: deposits drawn at {run['at']:.0f} ms; requests before that "
             "(start → first byte → end ms, bytes):"]  # fmt: skip
    for entry in sorted(run["resources"], key=lambda e: e["start"]):
        if entry["start"] > run["at"]:
            continue
        name = urlsplit(entry["name"])
        lines.append(
            f"  {entry['start']:6.0f} → {entry['first']:6.0f} → {entry['end']:6.0f}  "
            f"{entry['bytes']:>9,}  {name.path}{'?' + name.query[:40] if name.query else ''}"
        )
    return lines


def row(code: str, name: str, runs: dict[str, list[dict]]) -> str:
    def ms(values: list[float]) -> str:
        return f"{statistics.median(values):.0f} / {max(values):.0f}" if values else "–"

    every = [r for kind in runs.values() for r in kind]
    at = {kind: [r["at"] for r in found] for kind, found in runs.items()}
    tiles = sorted({r["tiles"] for r in every})
    features = sorted({r["features"] for r in every})
    worst = max(at["cold"] + at["warm"] + at["first"])
    verdict = "yes" if worst < TARGET_MS else f"no (max {worst:.0f} ms)"
    failed = sum(len(r["failed"]) for r in every)
    return (
        f"| {code} | {name} | {every[0]['kind']} | {at['first'][0]:.0f} | {ms(at['cold'])} | "
        f"{ms(at['warm'])} | {'–'.join(map(str, (tiles[0], tiles[-1])))} | "
        f"{'–'.join(map(str, (features[0], features[-1])))} | {failed} | {verdict} |"
    )


def working_tree() -> str:
    """This tree's commit, marked ``+changes`` when files differ from it."""
    git = ["git", "-C", str(BENCH.parent)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "api", "geo", "layers"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return commit.stdout.strip() + (" +changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    here = working_tree()
    path = ogc.synthetic_file(args.rows, args.seed)
    with prepared(path, args) as (home, url, context):
        stores = [(f"{args.rows:,} synthetic", url)]
        if args.peer:
            stores.append(("samples only", samples_database(url)))
        described = [f"{name}: {counts(store)}" for name, store in stores]
        codes = [(f"after ({here})", BENCH.parent)]
        if args.before:
            old = code_folder(args.before)
            codes.insert(0, (f"before ({old.name.removeprefix('code-')})", old))
        before = os.getloadavg()
        results = []
        with sync_playwright() as playwright:
            browser = chromium.launch(playwright)
            try:
                for name, store in stores:
                    for code, folder in codes:
                        slug = f"{name.split()[-1]}-{code.split()[0]}"
                        runs = serve_and_drive(slug, store, folder, home, args, browser)
                        results.append((code, name, runs))
            finally:
                browser.close()
        after = os.getloadavg()
        lines = [
            f"time from navigation start to the deposits drawn on /map (window.eminingReady."
            f"deposits.at), headless Chromium {VIEWPORT['width']}×{VIEWPORT['height']}; "
            f"1 first run, {args.runs} cold (fresh context), {args.runs} warm (cache filled)",
            context,
            f"{os.cpu_count()} cores, load average {before[0]:.2f} before, {after[0]:.2f} after "
            "(a shared machine: figures are provisional)",
            *described,
            "",
            "| code | data | deposits from | first ms | cold median / max ms | "
            f"warm median / max ms | tiles | features drawn | HTTP errors | < {TARGET_MS} ms |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            *(row(code, name, runs) for code, name, runs in results),
            "",
            *(
                line
                for code, name, runs in results
                for line in waterfall(f"{code}, {name}, the first cold run", runs["cold"][0])
            ),
        ]
        print("\n".join(lines))
        saved = [{"code": code, "data": name, "runs": runs} for code, name, runs in results]
        (OUT / "map" / "runs.json").write_bytes(orjson.dumps(saved, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
