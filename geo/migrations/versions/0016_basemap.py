"""The offline basemap: land, lakes, rivers, borders (disputed ones apart) and places.

Why in the store: the map must show where Quetta and Gwadar are with no internet, in the map's
language, and the platform already serves every geometry from PostGIS. The rows are a small cut
of public-domain data (``data/basemap``: Natural Earth, GeoNames), loaded by ``geo.basemap``
with the samples; ``/basemap/{layer}.geojson`` serves them. Not a published collection: nothing
here is the platform's own data, so it has no sharing rules and needs no row-level security.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

LAYERS = ("land", "lakes", "rivers", "borders", "disputed", "places")


def upgrade() -> None:
    listed = ", ".join(f"'{layer}'" for layer in LAYERS)
    op.execute(
        f"""CREATE TABLE basemap (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            layer text NOT NULL CHECK (layer IN ({listed})),
            name text,
            name_zh text,
            name_ur text,
            names_source text,
            rank smallint,
            capital boolean NOT NULL DEFAULT false,
            note text,
            geom geometry(Geometry, 4326) NOT NULL CHECK (ST_IsValid(geom))
        )"""
    )
    op.execute("CREATE INDEX basemap_layer_idx ON basemap (layer)")
    op.execute("CREATE INDEX basemap_geom_idx ON basemap USING gist (geom)")
    op.execute("GRANT SELECT ON basemap TO emining_api")  # the role the API reads as (0005)


def downgrade() -> None:
    op.execute("DROP TABLE basemap")
