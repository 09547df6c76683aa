"""The logistics network derived from corridors, and the links of every deposit.

Why tables and not views: routing every deposit is far too slow to repeat per request, so
``geo/network.py`` builds these tables and records in ``network_state`` the ``layer_changes``
versions it built them from; a reader that finds other versions rebuilds first. Nothing here
depends on pgRouting (only the build does), so the schema migrates on a plain PostGIS server.
``links`` is a published layer: it gets a change counter like the others (tile caches key on it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = {
    # Graph vertices: corridor junctions and ends, and the hubs of transfer places.
    "network_vertices": """
    id bigint PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('junction', 'hub')),
    name text,
    component bigint,
    geom geometry(Point, 4326) NOT NULL""",
    # Graph edges: corridor pieces between nodes (one straight segment each) and the
    # transfer edges joining corridors at a hub; undirected (cost = reverse_cost = km).
    "network_edges": """
    id bigint PRIMARY KEY,
    source bigint NOT NULL REFERENCES network_vertices (id),
    target bigint NOT NULL REFERENCES network_vertices (id),
    mode text NOT NULL CHECK (mode IN ('road', 'rail', 'transfer')),
    corridor_id bigint,
    km double precision NOT NULL CHECK (km >= 0),
    kmh double precision CHECK (kmh > 0),
    hours double precision NOT NULL CHECK (hours >= 0),
    component bigint,
    geom geometry(LineString, 4326) NOT NULL""",
    # Where each site (deposit, SEZ, facility) joins the network: its nearest corridor edge.
    "network_points": """
    pid bigint PRIMARY KEY,
    layer text NOT NULL,
    site_id bigint NOT NULL,
    name text,
    edge_id bigint NOT NULL REFERENCES network_edges (id),
    fraction double precision NOT NULL CHECK (fraction >= 0 AND fraction <= 1),
    access_km double precision NOT NULL,
    access_hours double precision NOT NULL,
    site geometry(Point, 4326) NOT NULL,
    geom geometry(Point, 4326) NOT NULL,
    UNIQUE (layer, site_id)""",
    "network_state": """
    artefact text PRIMARY KEY,
    built_from jsonb NOT NULL,
    built_at timestamptz NOT NULL DEFAULT now(),
    seconds double precision""",
    "links": """
    id bigint PRIMARY KEY,
    from_layer text NOT NULL,
    from_id bigint NOT NULL,
    from_name text,
    to_layer text,
    to_id bigint,
    to_name text,
    kind text NOT NULL CHECK (kind IN ('access', 'sez', 'port')),
    km double precision CHECK (km >= 0),
    hours double precision CHECK (hours >= 0),
    reason text,
    geom geometry(LineString, 4326),
    CHECK ((geom IS NULL) = (reason IS NOT NULL))""",
}


def upgrade() -> None:
    for table, columns in TABLES.items():
        op.execute(f"CREATE TABLE {table} ({columns})")
    for table in ("network_vertices", "network_edges", "network_points", "links"):
        op.execute(f"CREATE INDEX {table}_geom_idx ON {table} USING gist (geom)")
    op.execute("CREATE INDEX network_edges_source_idx ON network_edges (source)")
    op.execute("CREATE INDEX network_edges_target_idx ON network_edges (target)")
    op.execute("CREATE INDEX links_from_idx ON links (from_layer, from_id)")
    op.execute("INSERT INTO layer_changes (layer, version) VALUES ('links', 0)")
    op.execute(
        "CREATE TRIGGER links_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON links FOR EACH STATEMENT EXECUTE FUNCTION note_layer_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER links_changes ON links")
    op.execute("DELETE FROM layer_changes WHERE layer = 'links'")
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE {table}")
