"""Projects under the same visibility rule as the layers (migration 0005).

Why: a project (its partners, stakes, investments and agreements) can be as confidential as a
deposit. A project row has its own ``visibility``, ``owner_org`` and ``shared_with``; its
details are seen by whoever sees the project, and its geometry only has the sites the caller
sees (the views of 0006 are ``security_invoker``). The API reads projects as ``emining_api``,
so it needs read grants on the tables and views; projects stay read-only there.

The project change counter (``note_change_of``) is raised by triggers on the site layers, which
editors write through the API: like ``note_layer_change`` it runs as the owner, so editors need
no write grant on the counters.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

API_ROLE = "emining_api"
DETAILS = ("project_partners", "project_investments", "project_agreements", "project_sites")
VIEWS = ("project_sites_resolved", "project_features")


def upgrade() -> None:
    op.execute(
        """ALTER TABLE projects
        ADD COLUMN visibility text NOT NULL DEFAULT 'public'
            CHECK (visibility IN ('public', 'shared', 'confidential')),
        ADD COLUMN owner_org bigint REFERENCES organisations ON DELETE RESTRICT,
        ADD COLUMN shared_with bigint[] NOT NULL DEFAULT '{}',
        ADD CONSTRAINT projects_owned_unless_public
            CHECK (visibility = 'public' OR owner_org IS NOT NULL)"""
    )
    op.execute("ALTER TABLE projects ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY projects_read ON projects FOR SELECT TO {API_ROLE} "
        "USING (emining_can_see(visibility, owner_org, shared_with))"
    )
    for table in DETAILS:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_read ON {table} FOR SELECT TO {API_ROLE} "
            f"USING (EXISTS (SELECT 1 FROM projects p WHERE p.id = {table}.project_id))"
        )
    op.execute(f"GRANT SELECT ON projects, {', '.join(DETAILS)}, {', '.join(VIEWS)} TO {API_ROLE}")
    op.execute("ALTER FUNCTION note_change_of() SECURITY DEFINER SET search_path = public")


def downgrade() -> None:
    op.execute("ALTER FUNCTION note_change_of() SECURITY INVOKER RESET search_path")
    op.execute(f"REVOKE ALL ON projects, {', '.join(DETAILS)}, {', '.join(VIEWS)} FROM {API_ROLE}")
    for table in DETAILS:
        op.execute(f"DROP POLICY {table}_read ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP POLICY projects_read ON projects")
    op.execute("ALTER TABLE projects DISABLE ROW LEVEL SECURITY")
    op.execute(
        "ALTER TABLE projects DROP COLUMN visibility, DROP COLUMN owner_org, "
        "DROP COLUMN shared_with"
    )
