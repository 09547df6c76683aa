"""``emining user``: organisations, users and API keys, from the command line.

Why a command and no sign-up page: who may see confidential records is decided by the platform's
operators (an authority vouches for an enterprise), so accounts are made by someone with access
to the store. People then get tokens at ``/auth/token``; machines use the keys made here.
"""

from __future__ import annotations

import click
import psycopg

from geo import access, db
from geo.access import AccessError
from geo.embedded import ClusterError


@click.group(name="user")
def user_group() -> None:
    """Organisations, users and their API keys."""


@user_group.command(name="add")
@click.argument("email")
@click.option("--org", "organisation", required=True, help="Organisation name.")
@click.option(
    "--kind",
    type=click.Choice(access.ORG_KINDS),
    default=None,
    help="Create the organisation with this kind if it does not exist.",
)
@click.option("--country", default=None, help="Organisation's ISO 3166 code, e.g. PK, CN.")
@click.option("--role", type=click.Choice(access.ROLES), default="viewer", show_default=True)
@click.option("--name", default=None, help="The person's name.")
@click.option(
    "--password",
    default=None,
    help="Password for /auth/token (prompted when given as '-'; none: API keys only).",
)
def add_user(
    email: str,
    organisation: str,
    kind: str | None,
    country: str | None,
    role: str,
    name: str | None,
    password: str | None,
) -> None:
    """Add a user to an organisation (made when --kind is given)."""
    if password == "-":
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with db.store() as url, psycopg.connect(url) as conn:
            org_id = access.ensure_organisation(conn, organisation, kind, country)
            user_id = access.add_user(conn, email, org_id, role, password, name)
    except (AccessError, ClusterError, psycopg.Error) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"user {user_id}: {email}, {role} of {organisation}")


@user_group.command(name="key")
@click.argument("email")
@click.option("--label", default=None, help="What the key is for, e.g. 'QGIS on the GIS PC'.")
def add_key(email: str, label: str | None) -> None:
    """Make an API key for a user; it is printed once (send it as X-API-Key)."""
    try:
        with db.store() as url, psycopg.connect(url) as conn:
            key = access.add_key(conn, email, label)
    except (AccessError, ClusterError, psycopg.Error) as error:
        raise click.ClickException(str(error)) from None
    click.echo(key)


@user_group.command(name="list")
def list_users() -> None:
    """Every user with their organisation, its kind and their role."""
    try:
        with db.store() as url, psycopg.connect(url) as conn:
            rows = access.list_users(conn)
    except (ClusterError, psycopg.Error) as error:
        raise click.ClickException(str(error)) from None
    for email, org, kind, role, active, keys in rows:
        state = "" if active else " (inactive)"
        click.echo(f"{email}\t{org} ({kind})\t{role}\t{keys} key(s){state}")


@user_group.command(name="revoke-key")
@click.argument("email")
@click.option(
    "--key",
    "prefix",
    default=None,
    help="The key (or its prefix, em_<prefix>_…) to revoke; default: all of the user's.",
)
def revoke_key(email: str, prefix: str | None) -> None:
    """Revoke a user's API keys: requests with them are a 401 from the next one on."""
    try:
        with db.store() as url, psycopg.connect(url) as conn:
            revoked = access.revoke_keys(conn, email, prefix)
    except (AccessError, ClusterError, psycopg.Error) as error:
        raise click.ClickException(str(error)) from None
    if prefix is not None and revoked == 0:
        raise click.ClickException(f"{email} has no active key {prefix!r}")
    click.echo(f"revoked {revoked} key(s) of {email}")


@user_group.command(name="deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    """Deactivate a user: their keys, tokens and browser sessions stop working at once."""
    _set_active(email, False)
    click.echo(f"{email} is deactivated")


@user_group.command(name="activate")
@click.argument("email")
def activate(email: str) -> None:
    """Activate a user again (their old tokens stay void; their keys work again)."""
    _set_active(email, True)
    click.echo(f"{email} is active")


def _set_active(email: str, active: bool) -> None:
    try:
        with db.store() as url, psycopg.connect(url) as conn:
            access.set_active(conn, email, active)
    except (AccessError, ClusterError, psycopg.Error) as error:
        raise click.ClickException(str(error)) from None
