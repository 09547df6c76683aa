"""The raster catalogue: one row per Cloud Optimised GeoTIFF on disk.

Why a table and not a folder listing: the API lists, describes and finds rasters by name in the
same store as the vectors (footprints can be queried against concessions in SQL), and the titles
in three languages, units and provenance (``derived_from``) belong with the data, not in file
names. The pixels stay in files: PostGIS rasters would bloat the database and COGs are what
GDAL, QGIS and tilers read directly.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """CREATE TABLE rasters (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
        title text NOT NULL,
        title_zh text,
        title_ur text,
        description text,
        footprint geometry(Polygon, 4326) NOT NULL,
        bands integer NOT NULL CHECK (bands > 0),
        band_names text[] NOT NULL,
        dtype text NOT NULL,
        units text,
        nodata double precision,
        resolution double precision NOT NULL CHECK (resolution > 0),
        width integer NOT NULL CHECK (width > 0),
        height integer NOT NULL CHECK (height > 0),
        crs text NOT NULL,
        vmin double precision,
        vmax double precision,
        colormap text NOT NULL DEFAULT 'viridis',
        source text NOT NULL,
        derived boolean NOT NULL DEFAULT false,
        derived_from text[],
        path text NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute("CREATE INDEX rasters_footprint_idx ON rasters USING gist (footprint)")


def downgrade() -> None:
    op.execute("DROP TABLE rasters")
