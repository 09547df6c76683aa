"""The ``emining`` command: serve the platform, run its database, load and export layers.

Every command works on ``DATABASE_URL`` when it is set and on the embedded cluster otherwise;
a command that had to start the embedded cluster stops it again when done.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import click
import psycopg

from cli.cluster import cluster_group
from cli.db import database_group
from cli.rasters import raster_group
from cli.users import user_group
from geo import access, db, network, settings
from geo.embedded import Cluster, ClusterError
from geo.export import ExportError, export_layer
from geo.load import SAMPLES, LoadError, load_file, load_samples
from geo.models import LAYERS
from geo.resources import load_resources


class ProgressPrinter:
    """Progress on stderr for long work: a live line on a terminal, a line per 10% otherwise."""

    def __init__(self, label: str, minimum: int = 10_000):
        self.label, self.minimum = label, minimum
        self.started = time.monotonic()
        self.shown = -1
        self.tty = sys.stderr.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total < self.minimum:
            return
        percent = int(100 * done / total) if total else 100
        if not self.tty and percent // 10 == self.shown // 10 and done != total:
            return
        self.shown = percent
        rate = done / max(time.monotonic() - self.started, 1e-6)
        line = f"{self.label}: {stage} {done:,}/{total:,} ({percent}%, {rate:,.0f} rows/s)"
        click.echo(("\r" + line) if self.tty else line, err=True, nl=not self.tty)
        if self.tty and done == total:
            click.echo("", err=True)


def fail(message: str) -> None:
    raise click.ClickException(message)


@click.group()
def main() -> None:
    """E-Mining Platform: PostGIS store of Pakistan's mineral value chain, served as OGC API."""
    signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (a supervisor, ``timeout``, ``kill``) ends a command as Ctrl-C does, by an
    exception, rather than by dying where it stands: an open transaction is rolled back at once
    (a killed process leaves that to the server, when it next reads the socket), and an
    embedded cluster the command started is stopped again. Exit status 143, as for a kill."""
    raise SystemExit(128 + signum)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--samples/--no-samples",
    default=True,
    show_default=True,
    help="Load the sample data when the store is empty.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (each with its own connection pool).",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request (a reverse proxy usually does; it costs ~5% of the API's CPU).",
)
def serve(host: str, port: int, samples: bool, workers: int, access_log: bool) -> None:
    """Serve the platform (starting the embedded database if DATABASE_URL is not set)."""
    import uvicorn

    from api import server
    from api.app import Settings, create_app
    from geo.basemap import has_basemap
    from geo.raster import has_rasters

    try:
        with db.store() as url:
            with psycopg.connect(url, autocommit=True) as conn:
                counts = db.layer_counts(conn)
                if samples and not any(counts.values()):
                    click.echo(f"loading the sample data from {SAMPLES}", err=True)
                    load_samples(conn)
                    counts = db.layer_counts(conn)
                if not has_basemap(conn):
                    from geo.basemap import load_basemap

                    loaded = load_basemap(conn)
                    click.echo(f"loaded the offline basemap: {loaded} features", err=True)
                if samples and not has_rasters(conn):
                    from geo.raster_derive import derive_samples

                    click.echo("deriving the sample rasters (emining raster derive)", err=True)
                    derive_samples(conn)
            click.echo("store: " + ", ".join(f"{k} {v}" for k, v in counts.items()), err=True)
            # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into SystemExit so
            # the store's context exits and stops the embedded cluster cleanly.
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            if workers == 1:
                uvicorn.run(
                    create_app(Settings(url)),
                    host=host,
                    port=port,
                    log_level="info",
                    access_log=access_log,
                    **server.OPTIONS,
                )
            else:
                os.environ["DATABASE_URL"] = url  # each worker builds its app from it
                uvicorn.run(
                    "api.app:app_from_env",
                    factory=True,
                    workers=workers,
                    host=host,
                    port=port,
                    log_level="info",
                    access_log=access_log,
                    **server.OPTIONS,
                )
    except (ClusterError, LoadError, psycopg.Error) as error:
        fail(str(error))


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--layer",
    required=True,
    type=click.Choice([*LAYERS, "deposit_resources"]),
    help="deposit_resources: a CSV of resource figures by deposit name (docs/catalogue.md).",
)
@click.option("--upsert", is_flag=True, help="Update rows whose natural key already exists.")
@click.option("--source-layer", default=None, help="Layer to read from a multi-layer file.")
@click.option(
    "--network/--no-network",
    "rebuild_network",
    default=True,
    show_default=True,
    help="Rebuild the links after loading corridors or sites (else on the first read of links, "
    "or by 'emining network build': worth it when several files load one after another).",
)
def load(
    path: Path, layer: str, upsert: bool, source_layer: str | None, rebuild_network: bool
) -> None:
    """Load PATH (GeoJSON, GeoPackage, zipped Shapefile, FlatGeobuf, CSV) into a layer.

    Every row is checked first; if any fails, every problem is listed and nothing is written.
    """
    try:
        with db.store() as target, psycopg.connect(target, autocommit=True) as conn:
            if layer == "deposit_resources":
                report = load_resources(conn, path, upsert=upsert)
            else:
                report = load_file(
                    conn,
                    path,
                    layer,
                    upsert=upsert,
                    source_layer=source_layer,
                    progress=ProgressPrinter(f"load {path.name}"),
                )
            rate = report.rows / max(report.seconds, 1e-9)
            click.echo(
                f"{layer}: {report.inserted:,} inserted, {report.updated:,} updated from {path} "
                f"in {report.seconds:.1f} s ({rate:,.0f} rows/s)"
            )
            # The links depend on corridors and sites: rebuild them now, not on the first read.
            if rebuild_network and layer in network.SOURCES and network.routable(conn):
                _report_build(network.build(conn, progress=ProgressPrinter("network", minimum=1)))
    except network.NetworkError as error:
        fail(str(error))
    except LoadError as error:
        for line in error.lines():
            click.echo(line, err=True)
        fail(f"{len(error.problems)} problem(s) in {path}: nothing was written")


def _report_build(report: network.BuildReport | None) -> None:
    if report is None:
        click.echo("network: up to date (built from the current corridors and sites)")
    else:
        which = "changed " if report.partial else ""
        click.echo(
            f"network: {report.vertices:,} vertices, {report.edges:,} edges, "
            f"{report.links:,} links ({report.relinked:,} {which}deposits linked) "
            f"in {report.seconds:.1f} s"
        )


@main.group(name="network")
def network_group() -> None:
    """The logistics network (corridors as a pgRouting graph) and the links of every deposit."""


@network_group.command(name="build")
@click.option("--force", is_flag=True, help="Rebuild even if nothing changed.")
def network_build(force: bool) -> None:
    """Build the network and route every deposit to its corridor, nearest SEZ and port.

    Reading the links collection rebuilds them too when corridors or sites changed; this does it
    ahead of time, with progress.
    """
    try:
        with db.store() as target, psycopg.connect(target, autocommit=True) as conn:
            _report_build(
                network.build(conn, force=force, progress=ProgressPrinter("network", minimum=1))
            )
    except network.NetworkError as error:
        fail(str(error))


@main.command()
@click.argument("layer", type=click.Choice(list(LAYERS)))
@click.option(
    "-o",
    "--output",
    "path",
    required=True,
    type=click.Path(path_type=Path),
    help="File to write: .gpkg, .geojson, .csv or .fgb",
)
def export(layer: str, path: Path) -> None:
    """Export a layer to a file, streaming it in batches."""
    started = time.monotonic()
    try:
        with db.store() as target, psycopg.connect(target, autocommit=True) as conn:
            count = export_layer(conn, layer, path, progress=ProgressPrinter(f"export {layer}"))
    except ExportError as error:
        fail(str(error))
    click.echo(f"{layer}: {count:,} features to {path} in {time.monotonic() - started:.1f} s")


@main.command(name="pygeoapi-config")
@click.option(
    "-o",
    "--output",
    "path",
    default=None,
    type=click.Path(path_type=Path),
    help="File to write (mode 0600: it may hold the password); standard output if not given.",
)
@click.option(
    "--url",
    "server_url",
    default=None,
    help="The public URL pygeoapi will answer at (its links are built from it); "
    "default http://127.0.0.1:5000, pygeoapi's own port.",
)
def pygeoapi_config_command(path: Path | None, server_url: str | None) -> None:
    """Write a pygeoapi configuration publishing every layer through its PostgreSQL provider.

    It connects to DATABASE_URL, else to the embedded cluster over loopback TCP with its password
    (pygeoapi is another program, perhaps run by another user: the socket is ours alone). Keep the
    embedded cluster running (`emining db start`) while pygeoapi serves it.
    """
    from api import pygeoapi_config  # geopandas and the API's modules: only for this command

    target = db.configured_url()
    if target is None:
        try:
            target = Cluster().url(tcp=True)
        except ClusterError as error:
            fail(str(error))
    config = pygeoapi_config.build(target, server_url or pygeoapi_config.DEFAULT_URL)
    if path is None:
        click.echo(pygeoapi_config.dump(config), nl=False)
        return
    pygeoapi_config.write(config, path)
    click.echo(f"{len(config['resources'])} collections to {path}", err=True)


@main.command(name="map")
@click.option(
    "-o",
    "--output",
    "path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="HTML file to write.",
)
@click.option(
    "--lang", default="en", show_default=True, type=click.Choice(["en", "zh", "ur"]),
    help="Language the map opens in (the reader can switch).",
)  # fmt: skip
@click.option(
    "--basemap",
    default=None,
    envvar="EMINING_BASEMAP",
    help="Online basemap under the layers: 'osm' or a tile URL template (default: none, offline).",
)
def map_file(path: Path, lang: str, basemap: str | None) -> None:
    """Write the interactive map as one standalone HTML file (works opened from disk, offline).

    Scripts, styles and every layer's features are inlined; layers over 5,000 features show
    their first 5,000 (the served /map draws those from vector tiles instead). Each raster is
    one picture with its legend, and the concessions' zonal statistics are computed now. Only
    public records go in: a file can be forwarded to anyone.
    """
    from rasterio.errors import RasterioError

    from api.app import STATIC
    from api.maps import basemap_url
    from layers.maps import refresh_derived, standalone

    started = time.monotonic()
    try:
        with db.store() as target:
            asyncio.run(refresh_derived(target))
            # A file is passed around: it holds what anyone may see (public records) only.
            with psycopg.connect(target) as conn:
                access.act_as_sync(conn, access.ANONYMOUS)
                page = standalone(
                    conn,
                    STATIC,
                    lang=lang,
                    font_cache=settings.current().font_cache,
                    basemap=basemap_url(basemap),
                )
    except (ClusterError, psycopg.Error) as error:
        fail(str(error))
    except RasterioError as error:  # a catalogued raster's file is gone or unreadable
        fail(f"a raster could not be read ({error}); see emining raster list")
    path.write_text(page, encoding="utf-8")
    size = path.stat().st_size / 1e6
    click.echo(f"map: {path} ({size:.1f} MB) in {time.monotonic() - started:.1f} s")


main.add_command(database_group)
main.add_command(cluster_group)
main.add_command(user_group)
main.add_command(raster_group)

if __name__ == "__main__":
    main()
