"""The logistics network tells the truth: published lengths, names, modes and access legs.

- **Corridors** carry their published length's source (``length_source_url``, ``length_as_of``),
  a class that sets the speed (``road_class``: motorway, national highway, other road, rail),
  their names in Chinese and Urdu with where each name comes from (``names_source``: a
  Wikipedia title, or a translation or transliteration marked as such), and ``as_of`` beside
  ``source_url``. ``published_length_km`` (migration 0001) is what routes cost; the drawn
  ``length_km`` is display only.
- **Network points**: a port or SEZ joins every mode that reaches it, so a site may have one
  point per ``mode``; ``detour`` is the factor an access leg's straight line was multiplied by
  where no road is within reach (null where the site joins along a road).
- **Links** say how a route is made: its km by mode (``road_km``, ``rail_km``: access legs count
  as road), ``transfers`` (road-rail changes), and for the deposit's access leg
  ``access_detour`` and ``access_kmh``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

CLASSES = ("motorway", "national highway", "other road", "rail")
CORRIDOR_COLUMNS = {
    "name_zh": "text",
    "name_ur": "text",
    "names_source": "text",
    "road_class": f"text CHECK (road_class IN {CLASSES!r})",
    "length_source_url": "text",
    "length_as_of": "date",
    "as_of": "date",
}
LINK_COLUMNS = {
    "road_km": "double precision CHECK (road_km >= 0)",
    "rail_km": "double precision CHECK (rail_km >= 0)",
    "transfers": "integer CHECK (transfers >= 0)",
    "access_detour": "double precision CHECK (access_detour >= 1)",
    "access_kmh": "double precision CHECK (access_kmh > 0)",
}


def upgrade() -> None:
    for column, kind in CORRIDOR_COLUMNS.items():
        op.execute(f"ALTER TABLE corridors ADD COLUMN {column} {kind}")
    for column, kind in LINK_COLUMNS.items():
        op.execute(f"ALTER TABLE links ADD COLUMN {column} {kind}")
    # Derived tables: emptied, so the next build (CLI or background job) fills them anew.
    op.execute("DELETE FROM links")
    op.execute("DELETE FROM network_points")
    op.execute("DELETE FROM network_state")
    op.execute("ALTER TABLE network_points DROP CONSTRAINT network_points_layer_site_id_key")
    op.execute(
        "ALTER TABLE network_points ADD COLUMN mode text NOT NULL DEFAULT 'road' "
        "CHECK (mode IN ('road', 'rail')), ADD COLUMN detour double precision CHECK (detour >= 1)"
    )
    op.execute("ALTER TABLE network_points ADD UNIQUE (layer, site_id, mode)")


def downgrade() -> None:
    op.execute("DELETE FROM links")
    op.execute("DELETE FROM network_points")
    op.execute("DELETE FROM network_state")
    op.execute("ALTER TABLE network_points DROP CONSTRAINT network_points_layer_site_id_mode_key")
    op.execute("ALTER TABLE network_points DROP COLUMN mode, DROP COLUMN detour")
    op.execute("ALTER TABLE network_points ADD UNIQUE (layer, site_id)")
    for column in LINK_COLUMNS:
        op.execute(f"ALTER TABLE links DROP COLUMN {column}")
    for column in CORRIDOR_COLUMNS:
        op.execute(f"ALTER TABLE corridors DROP COLUMN {column}")
