"""Alembic run on a given database, and a fingerprint of what the migrations made there.

The fingerprint lists what a migration can create, each by its definition as PostgreSQL prints it:
columns, constraints, indexes, views, functions (with SECURITY DEFINER and their settings),
triggers and row-level security policies. Two databases with equal fingerprints have the same
schema, whatever path each took (a fresh upgrade, or a downgrade to base and an upgrade again).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

import geo

MIGRATIONS = Path(geo.__file__).parent / "migrations"

# Functions of extensions (PostGIS, pgRouting) are theirs, not the migrations'.
OURS = """NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
    AND d.objid = p.oid AND d.deptype = 'e')"""
FUNCTIONS = f"""SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
    pg_get_functiondef(p.oid) || ' security_definer=' || p.prosecdef
        || ' config=' || coalesce(array_to_string(p.proconfig, ','), '')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.prokind = 'f' AND {OURS}"""
PARTS = {
    "columns": """SELECT table_name || '.' || column_name, concat_ws(' ', data_type, udt_name,
        is_nullable, column_default, is_generated, generation_expression)
        FROM information_schema.columns WHERE table_schema = 'public'""",
    "constraints": """SELECT c.conrelid::regclass || '.' || c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'public' AND c.conrelid <> 0""",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'",
    "functions": FUNCTIONS,
    "triggers": """SELECT t.tgrelid::regclass || '.' || t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t WHERE NOT t.tgisinternal""",
    "policies": """SELECT tablename || '.' || policyname,
        concat_ws(' ', permissive, roles::text, cmd, qual, with_check)
        FROM pg_policies WHERE schemaname = 'public'""",
    "row security": """SELECT c.relname, c.relrowsecurity || ' ' || c.relforcerowsecurity
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r'""",
}


def alembic(url: str, verb: str, revision: str) -> None:
    """``alembic upgrade|downgrade REVISION`` on the database at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url))
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            getattr(command, verb)(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def revisions() -> list[str]:
    """Every revision, oldest first."""
    from alembic.script import ScriptDirectory

    walk = ScriptDirectory(str(MIGRATIONS)).walk_revisions()
    return [script.revision for script in reversed(list(walk))]


def fingerprint(conn: psycopg.Connection) -> dict[str, dict[str, str]]:
    return {part: dict(conn.execute(query).fetchall()) for part, query in PARTS.items()}


def functions(conn: psycopg.Connection) -> dict[str, str]:
    return dict(conn.execute(FUNCTIONS).fetchall())
