"""Vector tile benchmark: this API's MVT tiles against TiPg's, on one PostGIS, in one run.

Why: the issue's target is ≥ 2 × TiPg on random tiles, zoom 5–12, over 1,000,000 synthetic
deposits. The setup is bench/ogc.py's (same synthetic GeoPackage, same throwaway cluster, same
``emining load``, same servers and uvicorn workers, same wrk): only the requests differ. Both
servers get the same list of random tiles in the same order: level uniform in 5–12, the tile
under a point uniform over Pakistan's extent rectangle (lon 61–77, lat 24–36, as bench/ogc.py's
boxes; so some tiles lie over Afghanistan, Iran, India or the sea and are empty, for both).

This API runs twice: with its hot-tile cache (as deployed) and with the cache off
(``EMINING_TILE_CACHE_MB=0``), so the figure does not depend on how often the list repeats a
tile; with the default 20,000 tiles a 15 s run at a few hundred req/s rarely repeats one, so the
two should be close. The warm-up runs on a second list (another seed): warming up on the
measured list would fill the cache with exactly the tiles then measured.

    python bench/tiles.py                       # ~3 min after the load
    python bench/tiles.py --workers 1 --seconds 10

What the servers put in a tile differs and the sanity lines show it: TiPg stops at 10,000
features per tile (its default, in id order), this API thins points below the layer's maxzoom
to one per 1/128 of a tile (by their tile ranks, geo/tile_rank.py), so a z5 tile covers the
whole tile with fewer points.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import urllib.request
from pathlib import Path

import mapbox_vector_tile
import morecantile

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(BENCH.parent))

from bench import ogc  # noqa: E402
from bench import ogc_servers as servers  # noqa: E402
from bench.ogc_drive import LAT_RANGE, LON_RANGE, Result, wrk_paths  # noqa: E402

OUT = BENCH / "out"
WMQ = morecantile.tms.get("WebMercatorQuad")
ZOOMS = (5, 12)
TEMPLATES = {
    "emining": "/collections/deposits/tiles/WebMercatorQuad/{z}/{x}/{y}",
    "TiPg": "/collections/public.deposits/tiles/WebMercatorQuad/{z}/{x}/{y}",
}
SANITY_POINT = (71.5, 33.5)  # Peshawar–Kohat, bench/ogc.py's sanity box
SANITY_ZOOMS = (5, 8, 10, 12)
RUNS = ("emining", "emining, no cache", "tipg")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ogc.common_arguments(parser)
    parser.add_argument("--tiles", type=int, default=20_000, help="random tiles in the list")
    args = parser.parse_args(argv)
    args.candidate = []  # bench/ogc.build and machine read it
    if shutil.which("wrk") is None:
        parser.error("wrk not found: apt-get install -y wrk")
    return args


def random_tiles(count: int, seed: int) -> list[morecantile.Tile]:
    """Level uniform in ZOOMS, the tile under a uniform point of Pakistan's extent rectangle."""
    rng = random.Random(seed)
    tiles = []
    for _ in range(count):
        lon = rng.uniform(*LON_RANGE) / 100
        lat = rng.uniform(*LAT_RANGE) / 100
        tiles.append(WMQ.tile(lon, lat, rng.randint(*ZOOMS)))
    return tiles


def repeats(tiles: list[morecantile.Tile]) -> str:
    """How often the list asks again for a tile it asked for before, in all and per level.

    An unbounded cache could at most answer this share; low levels repeat most (a z5 tile over
    Pakistan is one of 6, a z12 tile one of ~25,000), which is what a cache is for.
    """
    seen: set[morecantile.Tile] = set()
    again = dict.fromkeys(range(ZOOMS[0], ZOOMS[1] + 1), 0)
    total = dict.fromkeys(again, 0)
    for tile in tiles:
        total[tile.z] += 1
        again[tile.z] += tile in seen
        seen.add(tile)
    share = sum(again.values()) / len(tiles)
    levels = ", ".join(f"z{z} {again[z] / max(total[z], 1):.0%}" for z in total)
    return f"{len(seen):,} distinct; {share:.0%} of requests repeat an earlier tile ({levels})"


def fill(template: str, tile: morecantile.Tile) -> str:
    return template.format(z=tile.z, x=tile.x, y=tile.y)


def sample(base: str, template: str) -> str:
    """Features and bytes of a few tiles around the sanity point, one per level."""
    found = []
    for z in SANITY_ZOOMS:
        tile = WMQ.tile(*SANITY_POINT, z)
        with urllib.request.urlopen(base + fill(template, tile), timeout=120) as answer:
            body = answer.read()
        layers = mapbox_vector_tile.decode(body) if body else {}
        count = sum(len(layer["features"]) for layer in layers.values())
        found.append(f"z{z} {count} features {len(body) / 1024:.0f} KiB")
    return "; ".join(found)


def run(name: str, url: str, home: Path, args: argparse.Namespace, lists: tuple) -> tuple:
    """Start one server, sample its tiles, drive the list, stop it."""
    server = ogc.build(name.split(",")[0], url, home, args)
    if name.endswith("no cache"):
        server.env["EMINING_TILE_CACHE_MB"] = "0"
        server.name = "emining, no cache"
    template = TEMPLATES[server.name.split(",")[0]]
    measured, warm = ([fill(template, tile) for tile in tiles] for tiles in lists)
    log = OUT / "tiles" / f"{server.name.replace(', ', '-').replace(' ', '-')}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    servers.start(server, log, ready=fill(template, WMQ.tile(*SANITY_POINT, 12)))
    try:
        found = sample(server.base, template)
        print(f"{server.name}: driving {len(measured):,} tiles", file=sys.stderr)
        result = wrk_paths(server.base, measured, warm, args.seconds, args.warmup)
    finally:
        servers.stop(server)
    return server.name, result, found


def report(
    results: list[tuple[str, Result, str]], args: argparse.Namespace, context: str, lists: tuple
) -> str:
    tipg = next((r for n, r, _ in results if n == "TiPg"), None)
    lines = [
        f"{args.rows:,} synthetic deposits; {args.tiles:,} random tiles z{ZOOMS[0]}–{ZOOMS[1]} "
        "over Pakistan's extent rectangle (lon 61–77, lat 24–36), the same list in the same "
        f"order for every server; 8 connections (wrk -t2); {args.seconds} s measured after "
        f"{args.warmup} s warm-up on another list",
        context,
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end "
        "(other work on this machine skews the figures: compare rows of one run)",
        "",
        "| server | req/s | p50 ms | p99 ms | errors | ÷ TiPg (req/s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, result, _ in results:
        ratio = f"{result.rps / tipg.rps:.2f}" if tipg and tipg.rps else ""
        lines.append(
            f"| {name} | {result.rps:.1f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} | "
            f"{result.errors} | {ratio} |"
        )
    lines += ["", f"the list: {repeats(lists[0])}"]
    lines += ["", f"tiles around {SANITY_POINT} (lon, lat):"]
    lines += [f"  {name:<18} {found}" for name, _, found in results]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = ogc.synthetic_file(args.rows, args.seed)
    servers.venv("tipg")  # before the cluster starts: the first install takes a while
    lists = (random_tiles(args.tiles, args.seed), random_tiles(args.tiles, args.seed + 1))
    with ogc.loaded_cluster(path, args, "emining-tiles-") as (home, url, context):
        results = [run(name, url, home, args, lists) for name in RUNS]
        print(report(results, args, context, lists))
    return 0


if __name__ == "__main__":
    sys.exit(main())
