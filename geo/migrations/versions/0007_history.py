"""Every change to every layer, kept by the database: who, when, what, before and after.

Why triggers and not the API: a change made through psql, a bulk load or a future endpoint is
kept all the same; nothing in Python can forget to write history or write it wrongly.

Why only the row *before* each change: the row after version k is the row before version k+1,
or the current row, so storing both would store every version twice; and a bulk insert of a
million rows writes a million small history rows (no copies of the data). ``geo/history.py``
pairs the versions back into before/after. A row is stored as JSON with its geometry as hex
EWKB text, which ``jsonb_populate_record`` turns back into a row of the table: that is how
``*_as_of`` views rebuild a layer as it was at ``emining.as_of``.

Statement-level triggers with transition tables: one INSERT into history per statement, not one
per row (a COPY of a million rows costs one set-based insert). PostgreSQL allows a transition
table on a trigger of one event only, so there are three per layer.

Who: ``emining.user`` and ``emining.org`` when the API acts for someone (geo/access.py),
otherwise NULL with the database role (the CLI and psql act as the store's owner).

Visibility of history: a version is seen by whoever could see that version (its own
visibility, owner and sharing are kept beside it), by the same ``emining_can_see`` rule.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

API_ROLE = "emining_api"
LAYERS = ("provinces", "districts", "deposits", "concessions", "facilities", "sezs", "corridors")

ROW_JSON = "to_jsonb(r) - 'geom' || jsonb_build_object('geom', r.geom::text)"


def upgrade() -> None:
    op.execute(
        """CREATE TABLE history (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        layer text NOT NULL,
        fid bigint NOT NULL,
        version integer NOT NULL CHECK (version > 0),
        op text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
        at timestamptz NOT NULL DEFAULT now(),
        by_user bigint,
        by_org bigint,
        by_role text NOT NULL DEFAULT current_user,
        before jsonb,
        visibility text NOT NULL,
        owner_org bigint,
        shared_with bigint[] NOT NULL DEFAULT '{}',
        UNIQUE (layer, fid, version),
        CHECK ((op = 'insert') = (before IS NULL))
        )"""
    )
    op.execute("CREATE INDEX history_at_idx ON history (layer, at)")
    op.execute("ALTER TABLE history ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY history_read ON history FOR SELECT TO {API_ROLE} "
        "USING (emining_can_see(visibility, owner_org, shared_with))"
    )
    op.execute(f"GRANT SELECT ON history TO {API_ROLE}")

    # One function per event; TG_TABLE_NAME names the layer. SECURITY DEFINER: the API's role
    # may read history but never write it. enable_seqscan off: the version lookup must use the
    # (layer, fid, version) index. A sequential scan per row also reads the pages this very
    # statement is adding, so a bulk load went quadratic (200k rows: 540 s instead of 6 s).
    # The collation: TG_TABLE_NAME is a name (collation "C"), which the index on layer (default
    # collation) cannot serve.
    next_version = (
        "coalesce((SELECT max(h.version) FROM history h "
        'WHERE h.layer = TG_TABLE_NAME::text COLLATE "default" AND h.fid = r.id), 0) + 1'
    )
    # Inside a SECURITY DEFINER function current_user is the owner: the acting role is the
    # 'role' setting (SET ROLE, as the API does) or else the login.
    who = (
        "emining_user(), emining_org(), CASE current_setting('role') WHEN 'none' "
        "THEN session_user::text ELSE current_setting('role') END"
    )
    bodies = {
        "insert": f"""INSERT INTO history (layer, fid, version, op, by_user, by_org, by_role,
                before, visibility, owner_org, shared_with)
            SELECT TG_TABLE_NAME, r.id, {next_version}, 'insert', {who}, NULL,
                   r.visibility, r.owner_org, r.shared_with FROM new_rows r""",
        "update": f"""INSERT INTO history (layer, fid, version, op, by_user, by_org, by_role,
                before, visibility, owner_org, shared_with)
            SELECT TG_TABLE_NAME, r.id, {next_version}, 'update', {who}, {ROW_JSON},
                   r.visibility, r.owner_org, r.shared_with FROM old_rows r""",
        "delete": f"""INSERT INTO history (layer, fid, version, op, by_user, by_org, by_role,
                before, visibility, owner_org, shared_with)
            SELECT TG_TABLE_NAME, r.id, {next_version}, 'delete', {who}, {ROW_JSON},
                   r.visibility, r.owner_org, r.shared_with FROM old_rows r""",
    }
    for event, body in bodies.items():
        op.execute(
            f"""CREATE FUNCTION keep_history_{event}() RETURNS trigger LANGUAGE plpgsql
            SECURITY DEFINER SET search_path = public SET enable_seqscan = off AS $$
            BEGIN {body}; RETURN NULL; END $$"""
        )
    for table in LAYERS:
        for event, rows in (("insert", "NEW TABLE AS new_rows"),
                            ("update", "OLD TABLE AS old_rows"),
                            ("delete", "OLD TABLE AS old_rows")):  # fmt: skip
            op.execute(
                f"CREATE TRIGGER {table}_history_{event} AFTER {event.upper()} ON {table} "
                f"REFERENCING {rows} FOR EACH STATEMENT EXECUTE FUNCTION keep_history_{event}()"
            )
        # The layer as it was at emining.as_of: rows unchanged since, plus the version before
        # the first change after it (unless that change was the row's insert).
        op.execute(
            f"""CREATE VIEW {table}_as_of WITH (security_invoker = true) AS
            SELECT t.* FROM {table} t WHERE NOT EXISTS (
                SELECT 1 FROM history h WHERE h.layer = '{table}' AND h.fid = t.id
                AND h.at > current_setting('emining.as_of')::timestamptz)
            UNION ALL
            SELECT (jsonb_populate_record(NULL::{table}, h.before)).* FROM (
                SELECT DISTINCT ON (fid) op, before FROM history
                WHERE layer = '{table}' AND at > current_setting('emining.as_of')::timestamptz
                ORDER BY fid, version) h
            WHERE h.op <> 'insert'"""
        )
        op.execute(f"GRANT SELECT ON {table}_as_of TO {API_ROLE}")

    # What the store held before history began is its first version.
    for table in LAYERS:
        op.execute(
            f"""INSERT INTO history (layer, fid, version, op, at, before, visibility, owner_org,
                shared_with, by_role)
            SELECT '{table}', id, 1, 'insert', updated_at, NULL, visibility, owner_org,
                   shared_with, current_user FROM {table}"""
        )


def downgrade() -> None:
    for table in LAYERS:
        op.execute(f"DROP VIEW {table}_as_of")
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_history_{event} ON {table}")
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP FUNCTION keep_history_{event}()")
    op.execute("DROP TABLE history")
