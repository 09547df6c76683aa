"""``emining raster``: register GeoTIFFs as COGs, list them, rebuild the derived samples."""

from __future__ import annotations

from pathlib import Path

import click
import psycopg

from geo import db, network


@click.group(name="raster")
def raster_group() -> None:
    """Rasters: Cloud Optimised GeoTIFFs under $EMINING_RASTERS (default $EMINING_HOME/rasters)."""


@raster_group.command(name="add")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Collection id (default: the file name, cleaned).")
@click.option("--title", default=None)
@click.option("--title-zh", default=None)
@click.option("--title-ur", default=None)
@click.option("--units", default=None, help="Units of the values, e.g. m, nT, hours.")
@click.option("--source", default=None, help="Where the data comes from (default: the file).")
@click.option("--colormap", default="viridis", type=click.Choice(["viridis", "magma"]))
@click.option("--replace", is_flag=True, help="Replace a raster of the same name.")
def raster_add(path: Path, name: str | None, **options: object) -> None:
    """Check PATH (readable, georeferenced, known CRS, overlaps Pakistan), store it as a COG
    with overviews and register it as a collection."""
    from geo.raster import RasterError, add_raster
    from layers.catalogue import CATALOGUE

    vectors = [layer.id for layer in CATALOGUE]
    try:
        with db.store() as target, psycopg.connect(target, autocommit=True) as conn:
            info = add_raster(conn, path, name, reserved=vectors, **options)  # type: ignore[arg-type]
    except RasterError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"{info.name}: {info.width}x{info.height} cells of {info.resolution:g} ({info.crs}), "
        f"{info.bands} band(s), stored as {info.file}"
    )


@raster_group.command(name="list")
def raster_list() -> None:
    """List the registered rasters."""
    from geo.raster import list_rasters

    with db.store() as target, psycopg.connect(target, autocommit=True) as conn:
        infos = list_rasters(conn)
    for info in infos:
        origin = "derived from " + ", ".join(info.derived_from or []) if info.derived else "loaded"
        click.echo(
            f"{info.name:<20} {info.width}x{info.height} @ {info.resolution:g} {info.crs}, "
            f"{info.bands} band(s) [{info.units or 'no units'}], {origin}: {info.title}"
        )
    if not infos:
        click.echo("no rasters (emining raster derive builds the samples)")


@raster_group.command(name="derive")
@click.option("--resolution", default=1000.0, show_default=True, help="Accessibility cell (m).")
def raster_derive(resolution: float) -> None:
    """Rebuild the sample rasters from the store: accessibility and deposit density."""
    from geo.raster import RasterError
    from geo.raster_derive import derive_samples

    try:
        with db.store() as target, psycopg.connect(target, autocommit=True) as conn:
            for info in derive_samples(conn, access_res=resolution):
                click.echo(f"{info.name}: {info.width}x{info.height}, {info.file}")
    except (RasterError, ValueError, network.NetworkError) as error:
        raise click.ClickException(str(error)) from None
