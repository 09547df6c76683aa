"""``emining db``: the embedded cluster's life cycle, the store's URL, psql, migrations, samples.

Why these commands: with no ``DATABASE_URL`` the platform runs its own PostgreSQL under
``.data/``, and an operator needs to start, stop, inspect and reach it without knowing where
initdb put it or which socket it listens on.
"""

from __future__ import annotations

import os
import shutil
import sys

import click
import psycopg

from geo import db
from geo.embedded import Cluster, ClusterError
from geo.load import LoadError, load_samples


@click.group(name="db")
def database_group() -> None:
    """The database: the embedded cluster's life cycle, its URL, a psql shell, migrations."""


def _cluster() -> Cluster:
    if db.configured_url():
        raise click.ClickException("DATABASE_URL is set: the embedded cluster is not used")
    return Cluster()


@database_group.command()
def start() -> None:
    """Create (on first use) and start the embedded cluster, then migrate it."""
    cluster = _cluster()
    try:
        started = cluster.start()
        db.migrate(cluster.url())
    except ClusterError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{'started' if started else 'already running'}: {cluster.url()}")


@database_group.command()
def stop() -> None:
    """Stop the embedded cluster (its data stays in $EMINING_HOME)."""
    cluster = _cluster()
    click.echo("stopped" if cluster.stop() else "not running")


@database_group.command()
def status() -> None:
    """Say where the store is, whether it answers, and its rows per layer."""
    if url := db.configured_url():
        where = "DATABASE_URL"
    else:
        cluster = Cluster()
        where = f"embedded cluster in {cluster.home}"
        if not cluster.running():
            click.echo(f"{where}: {'stopped' if cluster.exists() else 'not created yet'}")
            sys.exit(3)
        url = cluster.url()
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            counts = db.layer_counts(conn)
    except psycopg.Error as error:
        click.echo(f"{where}: not answering ({error})")
        sys.exit(1)
    click.echo(f"{where}: running")
    for layer, count in counts.items():
        click.echo(f"  {layer:<12} {count:>10,}")


@database_group.command()
@click.option("--tcp", is_flag=True, help="The loopback TCP URL with password (for GDAL, QGIS).")
def url(tcp: bool) -> None:
    """Print the store's connection URL."""
    if configured := db.configured_url():
        click.echo(configured)
        return
    try:
        click.echo(_cluster().url(tcp=tcp))
    except ClusterError as error:
        raise click.ClickException(str(error)) from None


@database_group.command()
def psql() -> None:
    """Open psql on the store (starting the embedded cluster if needed)."""
    target = db.configured_url()
    if target is None:
        cluster = Cluster()
        cluster.start()
        target = cluster.url()
    executable = shutil.which("psql")
    if executable is None:
        raise click.ClickException("psql not found: install postgresql-client")
    os.execv(executable, [executable, target])


@database_group.command()
def migrate() -> None:
    """Bring the schema to the newest migration."""
    with db.store():
        click.echo("schema is up to date")


@database_group.command()
def seed() -> None:
    """Load (or refresh) the sample data."""
    try:
        with db.store() as target, psycopg.connect(target, autocommit=True) as conn:
            for report in load_samples(conn):
                click.echo(f"{report.layer}: {report.inserted} new, {report.updated} updated")
    except LoadError as error:
        raise click.ClickException(str(error)) from None
