"""Who may see and change what: organisations, users, API keys, and row-level security.

Why in the database: every path that reads a layer (items, single items, counts, tiles, the map,
links, routes, zonal statistics, CQL2 filters) runs SQL, so a rule attached to the tables covers
them all, including paths written later. The API connects as the store's owner and, inside each
request's transaction, switches to the ``emining_api`` role and states who is asking
(``emining.org``, ``emining.org_kind``, ``emining.role``, ``emining.user``; see geo/access.py).
Policies read those settings through the small functions below: one rule, written once.

Visibility of a record:
- ``public``: everyone, including anonymous requests;
- ``shared``: its owner organisation and the organisations named in ``shared_with``;
- ``confidential``: its owner organisation only;
- authorities (organisations of kind ``authority``) see every record, as regulators.
A record with no owner is the platform's own and must be public. Writes need the editor,
approver or admin role; a record can be changed by its owner organisation, and the platform's
own (ownerless) records by authorities.

Index use under RLS: PostgreSQL evaluates a policy before any user condition that is not
LEAKPROOF, and only LEAKPROOF conditions may drive an index scan. The bounding-box operator of
PostGIS (``&&``) and the array operators behind the commodity filters are not marked LEAKPROOF,
so every bbox query would scan the whole table. They cannot leak (they return a boolean and fail
only on mismatched SRIDs or element types, which the schema fixes), so the migration marks them
LEAKPROOF when it runs as a superuser, and warns otherwise.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

API_ROLE = "emining_api"
LAYERS = ("provinces", "districts", "deposits", "concessions", "facilities", "sezs", "corridors")
LEAKPROOF = (
    "geometry_overlaps(geometry, geometry)",  # &&
    "arraycontains(anyarray, anyarray)",  # @>
    "arraycontained(anyarray, anyarray)",  # <@
    "arrayoverlap(anyarray, anyarray)",  # && on arrays
)


def upgrade() -> None:
    op.execute(
        """CREATE TABLE organisations (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
        kind text NOT NULL CHECK (kind IN ('authority', 'enterprise', 'public')),
        country text CHECK (country ~ '^[A-Z]{2}$'),
        created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        """CREATE TABLE users (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        email text NOT NULL UNIQUE CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
        name text,
        organisation_id bigint NOT NULL REFERENCES organisations ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('viewer', 'editor', 'approver', 'admin')),
        password_hash text,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    # A key is shown once; the store keeps its SHA-256 (a key is 32 random bytes, so a fast hash
    # is enough: there is nothing to guess) and its prefix, by which a request's key is found.
    op.execute(
        """CREATE TABLE api_keys (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
        prefix text NOT NULL UNIQUE,
        key_hash bytea NOT NULL,
        label text,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
        )"""
    )
    # The secret that signs bearer tokens: one per store, so every worker process agrees.
    op.execute("CREATE TABLE secrets (name text PRIMARY KEY, value bytea NOT NULL)")

    op.execute(
        f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{API_ROLE}') THEN
            CREATE ROLE {API_ROLE} NOLOGIN;
        END IF;
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            EXECUTE format('GRANT {API_ROLE} TO %I', current_user);
        END IF;
        END $$"""
    )
    for name, setting, kind in (
        ("emining_org", "emining.org", "bigint"),
        ("emining_org_kind", "emining.org_kind", "text"),
        ("emining_role", "emining.role", "text"),
        ("emining_user", "emining.user", "bigint"),
    ):
        op.execute(
            f"""CREATE FUNCTION {name}() RETURNS {kind} LANGUAGE sql STABLE PARALLEL SAFE AS
            $$ SELECT nullif(current_setting('{setting}', true), '')::{kind} $$"""
        )
    op.execute(
        """CREATE FUNCTION emining_can_see(visibility text, owner_org bigint, shared_with bigint[])
        RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT visibility = 'public'
            OR emining_org_kind() = 'authority'
            OR owner_org = emining_org()
            OR (visibility = 'shared' AND emining_org() = ANY(shared_with)) $$"""
    )
    op.execute(
        """CREATE FUNCTION emining_can_write(owner_org bigint) RETURNS boolean
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT emining_role() IN ('editor', 'approver', 'admin')
            AND (owner_org = emining_org()
                 OR (owner_org IS NULL AND emining_org_kind() = 'authority')) $$"""
    )

    for table in LAYERS:
        op.execute(
            f"""ALTER TABLE {table}
            ADD COLUMN visibility text NOT NULL DEFAULT 'public'
                CHECK (visibility IN ('public', 'shared', 'confidential')),
            ADD COLUMN owner_org bigint REFERENCES organisations ON DELETE RESTRICT,
            ADD COLUMN shared_with bigint[] NOT NULL DEFAULT '{{}}',
            ADD CONSTRAINT {table}_owned_unless_public
                CHECK (visibility = 'public' OR owner_org IS NOT NULL)"""
        )
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_read ON {table} FOR SELECT TO {API_ROLE} "
            "USING (emining_can_see(visibility, owner_org, shared_with))"
        )
        op.execute(
            f"CREATE POLICY {table}_insert ON {table} FOR INSERT TO {API_ROLE} "
            "WITH CHECK (emining_can_write(owner_org))"
        )
        op.execute(
            f"CREATE POLICY {table}_update ON {table} FOR UPDATE TO {API_ROLE} "
            "USING (emining_can_see(visibility, owner_org, shared_with) "
            "AND emining_can_write(owner_org)) WITH CHECK (emining_can_write(owner_org))"
        )
        op.execute(
            f"CREATE POLICY {table}_delete ON {table} FOR DELETE TO {API_ROLE} "
            "USING (emining_can_see(visibility, owner_org, shared_with) "
            "AND emining_can_write(owner_org))"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {API_ROLE}")

    # Links are derived from every deposit: a link is seen by whoever sees its deposit (the
    # policy's subquery runs under the same policies). Its targets and the network are built
    # from public SEZs, ports and corridors only (geo/network.py), so they reveal nothing more.
    op.execute("ALTER TABLE links ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY links_read ON links FOR SELECT TO {API_ROLE} "
        "USING (EXISTS (SELECT 1 FROM deposits d WHERE d.id = links.from_id))"
    )
    read_only = ("links", "rasters", "layer_changes", "network_vertices", "network_edges",
                 "network_points", "network_state")  # fmt: skip
    op.execute(f"GRANT SELECT ON {', '.join(read_only)} TO {API_ROLE}")
    op.execute(f"GRANT SELECT (id, name, kind, country) ON organisations TO {API_ROLE}")
    # The change counter is raised by a statement trigger of the writing role: let the function
    # run as the owner, so editors need no write grant on the counters themselves.
    op.execute("ALTER FUNCTION note_layer_change() SECURITY DEFINER SET search_path = public")

    leakproof = "; ".join(f"ALTER FUNCTION {f} LEAKPROOF" for f in LEAKPROOF)
    op.execute(
        f"""DO $$ BEGIN
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            {leakproof};
        ELSE
            RAISE WARNING 'not a superuser: bbox and array filters cannot use their indexes '
                'under row-level security (see migration 0005)';
        END IF;
        END $$"""
    )


def downgrade() -> None:
    op.execute("ALTER FUNCTION note_layer_change() SECURITY INVOKER RESET search_path")
    op.execute("DROP POLICY links_read ON links")
    op.execute("ALTER TABLE links DISABLE ROW LEVEL SECURITY")
    for table in LAYERS:
        for action in ("read", "insert", "update", "delete"):
            op.execute(f"DROP POLICY {table}_{action} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(
            f"ALTER TABLE {table} DROP COLUMN visibility, DROP COLUMN owner_org, "
            "DROP COLUMN shared_with"
        )
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {API_ROLE}")
    op.execute("DROP FUNCTION emining_can_write(bigint)")
    op.execute("DROP FUNCTION emining_can_see(text, bigint, bigint[])")
    for name in ("emining_org", "emining_org_kind", "emining_role", "emining_user"):
        op.execute(f"DROP FUNCTION {name}()")
    op.execute("DROP TABLE secrets, api_keys, users, organisations")
