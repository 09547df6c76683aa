"""A version number per layer, raised by the database whenever the layer's rows change.

Why: caches (hot vector tiles, the logistics network derived from corridors and sites) must be
invalidated by every write, including writes that bypass the API (loaders, psql). Statement-level
triggers see them all, cost one row update per statement (not per row, so a 1 M-row COPY pays
once), and the update is transactional: a reader sees the new version only once the data it
stands for is committed. ``pg_notify`` tells listening processes without polling.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("provinces", "districts", "deposits", "concessions", "facilities", "sezs", "corridors")


def upgrade() -> None:
    op.execute(
        """CREATE TABLE layer_changes (
            layer text PRIMARY KEY,
            version bigint NOT NULL,
            changed_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        """CREATE FUNCTION note_layer_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE layer_changes SET version = version + 1, changed_at = now()
            WHERE layer = TG_TABLE_NAME;
            PERFORM pg_notify('layer_changes', TG_TABLE_NAME);
            RETURN NULL;
        END $$"""
    )
    for table in TABLES:
        op.execute(f"INSERT INTO layer_changes (layer, version) VALUES ('{table}', 0)")
        op.execute(
            f"CREATE TRIGGER {table}_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION note_layer_change()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_changes ON {table}")
    op.execute("DROP FUNCTION note_layer_change()")
    op.execute("DROP TABLE layer_changes")
