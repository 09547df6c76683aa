"""``emining cluster up|down|status``: the highly available store on this machine.

Why a command: the topology of docs/ha.md (etcd ×3, Patroni ×3, HAProxy, two API processes)
is a dozen processes with ports and passwords to agree on; ``up`` starts them from the Debian
packages' binaries and prints where to point clients, ``down`` stops them (data kept),
``status`` shows who is primary. The embedded single node stays the default of ``make run``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from geo.ha import HACluster, HAError
from geo.settings import Settings


def default_home() -> Path:
    return Settings().ha_home


home_option = click.option(
    "--home",
    type=click.Path(path_type=Path),
    default=None,
    help="The cluster's folder (default: $EMINING_HA_HOME, else .data-ha).",
)


@click.group(name="cluster")
def cluster_group() -> None:
    """A highly available store: etcd ×3, Patroni ×3, HAProxy, two API processes."""


@cluster_group.command(name="up")
@home_option
@click.option("--samples/--no-samples", default=True, show_default=True,
              help="Load the sample data into a new cluster.")  # fmt: skip
@click.option("--apis/--no-apis", default=True, show_default=True,
              help="Start the two API processes (HAProxy balances them).")  # fmt: skip
def up(home: Path | None, samples: bool, apis: bool) -> None:
    """Create (first time) and start the cluster; return once it serves."""
    cluster = HACluster(home or default_home())
    try:
        topology = cluster.up(samples=samples, apis=apis)
    except HAError as error:
        raise click.ClickException(str(error)) from None
    replicas = ", ".join(cluster.replicas())
    click.echo(f"primary: {cluster.leader()}; synchronous replicas: {replicas}")
    click.echo(f"DATABASE_URL={topology.write_url}")
    click.echo(f"DATABASE_READ_URL={topology.read_url}")
    if apis:
        click.echo(f"API: {topology.api_url}")


@cluster_group.command(name="down")
@home_option
def down(home: Path | None) -> None:
    """Stop every process of the cluster (its data is kept for the next ``up``)."""
    cluster = HACluster(home or default_home())
    if not cluster.exists():
        raise click.ClickException(f"no cluster in {cluster.home}")
    stopped = cluster.down()
    click.echo("stopped: " + (", ".join(stopped) or "nothing was running"))


@cluster_group.command(name="status")
@home_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(home: Path | None, as_json: bool) -> None:
    """Processes, etcd health and each member's role (exit 1 when there is no primary)."""
    cluster = HACluster(home or default_home())
    try:
        found = cluster.status()
    except HAError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(found, indent=2))
    else:
        for name, pid in found["processes"].items():
            click.echo(f"{name:8} {'pid ' + str(pid) if pid else 'stopped'}")
        for member in found["members"]:
            role = member["role"] or "unreachable"
            sync = " (synchronous)" if member["sync"] else ""
            click.echo(f"{member['name']:8} {role} {member['state'] or ''}{sync}")
        click.echo(f"DATABASE_URL={found['write_url']}")
        click.echo(f"DATABASE_READ_URL={found['read_url']}")
    if not any(m["role"] in ("primary", "master") for m in found["members"]):
        raise SystemExit(1)
