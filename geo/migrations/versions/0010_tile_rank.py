"""Tile ranks: the lowest zoom at which a point shows in thinned vector tiles.

Why: below a layer's maxzoom a tile shows one point per cell of a 128 × 128 grid over it (about
4 pixels), so a zoomed-out view of a million deposits is not a 50 MB tile. Choosing that point per
request meant reading every point under the tile (450,000 for a z5 tile over Pakistan); with a
rank per point, stored in ``minzoom``, a tile reads ``minzoom <= z`` and nothing else.

The rule (``geo/tile_rank.py`` has the same in numpy, and the long explanation): a point's key is
its Web Mercator cell at level 24, bits interleaved (Morton order), so every cell of every level
is one run of keys. In each thinning cell the point first in (key, id) order stands for the cell.
A point is first in its level-L cell exactly when its predecessor in that order lies in another
level-L cell, so its rank depends on its predecessor alone: ``minzoom = max(0, shared - 6)``,
``shared`` the number of levels whose cell the two keys share (the thinning cell of zoom z is the
level z + 7 cell). A write therefore changes the ranks of the rows it writes and of the rows that
follow the written (or deleted) positions, nothing else.

Upkeep is by statement-level triggers with transition tables, chosen over recomputing after a
load keyed on the layer change counter: every path (the loader, the API, a psql INSERT) leaves
valid ranks when its statement ends, inside its transaction; a one-row write costs a few index
probes, not a pass over the layer, and no reader ever has to repair ranks before answering.
Large statements (≥ 1/8 of the table, e.g. a bulk COPY into an empty table) recompute the whole
layer with one window pass instead, and write only the rows whose rank differs: the loader sends
the ranks it computed (numpy), so that pass only checks them. Writers to a ranked table take a
transaction-level advisory lock first, so two concurrent writers never rank against each other's
invisible rows (READ COMMITTED; a REPEATABLE READ writer could still miss a concurrent one).

Rank classes (row-level security): a row the current user cannot see must not stand for a cell
in which they can see another. ``RANKED`` gives, per table, an SQL expression over its columns,
never NULL, whose values split the rows into classes ranked separately: each class has its own
representative per cell, so if every class is seen whole or not at all by each user (the
expression names the row's audience, e.g. ``AUDIENCE`` for migration 0005's rule), no user ever
loses a cell to a point they cannot see, and none is shown one they may not see. Adding the
class is that one line, before the migration first runs; the functions read it from the
``tile_ranks`` table this fills. The upkeep runs as the functions' owner (SECURITY DEFINER), so
row-level security never hides rows from the ranking. Triggers that must not take the upkeep's
own rank writes for changes of the data (``updated_at``, the change counter; history) are
recreated with a guard, ``GUARDED``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


AUDIENCE = (
    "CASE visibility WHEN 'public' THEN '{}'::bigint[] WHEN 'confidential' THEN ARRAY[owner_org] "
    "ELSE array_prepend(owner_org, shared_with) END"
)
"""Who may see a row under migration 0005's rule (authorities see every class): the class the
access columns need, once they exist (immutable, so it can lead the upkeep's index)."""

RANKED: dict[str, str | None] = {"deposits": AUDIENCE, "facilities": AUDIENCE}
"""Point tables thinned in tiles, each with its rank class expression (None: one class)."""

KEY_LEVEL = 24  # Web Mercator cells of the key: 2^24 per side (2.4 m at the equator)
THIN_LEVELS = 7  # the thinning grid is 2^7 = 128 cells per tile side
GUARD = "emining.rank_upkeep"  # set while the upkeep writes ranks: no re-ranking, no touch
NOT_UPKEEP = f"current_setting('{GUARD}', true) IS DISTINCT FROM 'on'"


def _spread_byte(byte: int) -> int:
    """The byte's bits moved to the even positions (0b1011 → 0b1000101)."""
    return sum(((byte >> i) & 1) << (2 * i) for i in range(8))


SPREAD = "('{" + ",".join(str(_spread_byte(b)) for b in range(256)) + "}'::bigint[])"
"""Every byte spread, as a SQL array: Morton keys by lookup, a byte at a time."""


def _cell(coordinate: str) -> str:
    return f"least(greatest(floor({coordinate} * {2**KEY_LEVEL}), 0), {2**KEY_LEVEL - 1})::bigint"


def _spread(cell: str) -> str:
    return " | ".join(
        f"({SPREAD}[(({cell} >> {8 * i}) & 255) + 1] << {16 * i})" for i in range(KEY_LEVEL // 8)
    )


# Written out, not nested SQL functions: a parameter used more than once blocks inlining, and
# an inlined expression costs ~0.5 µs a row where a called SQL function costs ~30 µs.
X = _cell("((ST_X(g) + 180) / 360)")
Y = _cell("(0.5 - ln(tan(pi() / 4 + radians(ST_Y(g)) / 2)) / (2 * pi()))")
POWERS_OF_4 = "ARRAY[" + ",".join(str(4**i) for i in range(KEY_LEVEL)) + "]::bigint[]"

FUNCTIONS = [
    f"""CREATE FUNCTION tile_key(g geometry) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ({_spread(X)}) | (({_spread(Y)}) << 1) $$""",
    # width_bucket counts the powers of 4 up to the keys' XOR: its base-4 digits, i.e. the
    # levels (from the finest) at which the two cells differ.
    f"""CREATE FUNCTION tile_rank(key bigint, previous bigint) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN previous IS NULL THEN 0 ELSE greatest(0, {KEY_LEVEL - THIN_LEVELS + 1}
        - width_bucket(key # previous, {POWERS_OF_4})) END::smallint $$""",
    """CREATE TABLE tile_ranks (
        layer regclass PRIMARY KEY,
        rank_class text  -- an SQL expression over the layer's columns; NULL: one class
    )""",
    # Every rank of the table, in one window pass; writes only the rows whose rank differs.
    # No JIT (here and in the upkeep): compiling the key's long expression cost more than the
    # pass itself (2.1 s against 1.2 s for a million rows).
    f"""CREATE FUNCTION tile_rank_refresh(t regclass) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
    DECLARE
        class_of text := coalesce((SELECT rank_class FROM tile_ranks WHERE layer = t), 'true');
        ranked text := format('SELECT id, minzoom, tile_rank(key, lag(key) OVER '
            '(PARTITION BY rank_class ORDER BY key, id)) AS rank FROM (SELECT id, minzoom, '
            '(%s) AS rank_class, tile_key(geom) AS key FROM %s) s', class_of, t);
        changed bigint;
    BEGIN
        EXECUTE format('SELECT count(*) FROM (%s) r WHERE minzoom <> rank', ranked) INTO changed;
        IF changed > 0 THEN
            PERFORM set_config('{GUARD}', 'on', true);
            EXECUTE format('UPDATE %s t SET minzoom = r.rank FROM (%s) r '
                'WHERE t.id = r.id AND t.minzoom <> r.rank', t, ranked);
            PERFORM set_config('{GUARD}', 'off', true);
        END IF;
        RETURN changed;
    END $$""",
    # After each writing statement: the rows it wrote, and the rows after each written or
    # removed position, get the rank their (new) predecessor gives them. The class expression
    # is written unqualified: inside each subquery it reads that subquery's own row.
    f"""CREATE FUNCTION tile_rank_upkeep() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
    DECLARE
        t regclass := TG_RELID;
        class_of text := coalesce((SELECT rank_class FROM tile_ranks WHERE layer = t), 'true');
        -- ORDER BY leads with the class (PostgreSQL refuses a constant there: none if one class)
        ascending text := CASE class_of WHEN 'true' THEN '' ELSE format('(%s), ', class_of) END;
        descending text := CASE class_of WHEN 'true' THEN ''
            ELSE format('(%s) DESC, ', class_of) END;
        positions text := 'SELECT id AS rank_id, (%s) AS rank_class, tile_key(geom) AS rank_key '
            'FROM %s';
        added text;
        removed text;
        written bigint := 0;
    BEGIN
        IF current_setting('{GUARD}', true) = 'on' THEN
            RETURN NULL;  -- the upkeep's own rank writes
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            written := (SELECT count(*) FROM rank_new);
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            written := written + (SELECT count(*) FROM rank_old);
        END IF;
        IF written = 0 THEN
            RETURN NULL;
        END IF;
        IF written * 8 >= (SELECT reltuples FROM pg_class WHERE oid = t) THEN
            PERFORM tile_rank_refresh(t);  -- a large share of the table: one pass is cheaper
            RETURN NULL;
        END IF;
        added := CASE TG_OP
            WHEN 'INSERT' THEN format(positions, class_of, 'rank_new')
            WHEN 'UPDATE' THEN format(positions, class_of, 'rank_new') || ' EXCEPT '
                || format(positions, class_of, 'rank_old')
            ELSE format(positions, class_of, t) || ' WHERE false' END;
        removed := CASE TG_OP
            WHEN 'DELETE' THEN format(positions, class_of, 'rank_old')
            WHEN 'UPDATE' THEN format(positions, class_of, 'rank_old') || ' EXCEPT '
                || format(positions, class_of, 'rank_new')
            ELSE format(positions, class_of, t) || ' WHERE false' END;
        PERFORM set_config('{GUARD}', 'on', true);
        EXECUTE format($q$
            WITH added AS (%1$s), removed AS (%2$s),
            touched AS (
                SELECT rank_id AS id FROM added
                UNION
                SELECT n.id FROM (SELECT * FROM added UNION ALL SELECT * FROM removed) c
                CROSS JOIN LATERAL (
                    SELECT x.id FROM %3$s x WHERE (%4$s) = c.rank_class
                    AND (tile_key(x.geom), x.id) > (c.rank_key, c.rank_id)
                    ORDER BY %5$s tile_key(x.geom), x.id LIMIT 1) n
            ),
            here AS (
                SELECT x.id, (%4$s) AS rank_class, tile_key(x.geom) AS rank_key
                FROM %3$s x JOIN touched USING (id)
            ),
            ranked AS (
                SELECT h.id, tile_rank(h.rank_key, p.key) AS rank FROM here h
                LEFT JOIN LATERAL (
                    SELECT tile_key(p.geom) AS key FROM %3$s p WHERE (%4$s) = h.rank_class
                    AND (tile_key(p.geom), p.id) < (h.rank_key, h.id)
                    ORDER BY %6$s tile_key(p.geom) DESC, p.id DESC LIMIT 1) p ON true
            )
            UPDATE %3$s t SET minzoom = ranked.rank FROM ranked
            WHERE t.id = ranked.id AND t.minzoom <> ranked.rank$q$,
            added, removed, t, class_of, ascending, descending);
        PERFORM set_config('{GUARD}', 'off', true);
        RETURN NULL;
    END $$""",
    # ALTER TABLE under views that use the table's row type (a layer "as of" a time, from its
    # history, rebuilds rows of that type): they are dropped and made again as they were.
    """CREATE FUNCTION tile_rank_alter(t regclass, change text) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        v record;
        grant_ record;
    BEGIN
        CREATE TEMP TABLE tile_rank_views ON COMMIT DROP AS
        SELECT DISTINCT c.oid::regclass::text AS name, pg_get_viewdef(c.oid) AS body,
               c.reloptions AS options, c.relacl AS acl
        FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class c ON c.oid = r.ev_class
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_type'::regclass
          AND d.refobjid = (SELECT reltype FROM pg_class WHERE oid = t);
        FOR v IN SELECT * FROM tile_rank_views LOOP
            EXECUTE format('DROP VIEW %s', v.name);
        END LOOP;
        EXECUTE format('ALTER TABLE %s %s', t, change);
        FOR v IN SELECT * FROM tile_rank_views LOOP
            EXECUTE format('CREATE VIEW %s %s AS %s', v.name, CASE WHEN v.options IS NULL THEN ''
                ELSE format('WITH (%s)', array_to_string(v.options, ', ')) END, v.body);
            FOR grant_ IN SELECT grantee::regrole AS who, privilege_type AS what
                FROM aclexplode(v.acl) WHERE grantee <> 0 AND grantee <> grantor LOOP
                EXECUTE format('GRANT %s ON %s TO %s', grant_.what, v.name, grant_.who);
            END LOOP;
        END LOOP;
        DROP TABLE tile_rank_views;
    END $$""",
    # Before each writing statement: one writing transaction at a time per ranked table.
    """CREATE FUNCTION tile_rank_lock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('tile_rank'), hashtext(TG_TABLE_NAME));
        RETURN NULL;
    END $$""",
]


GUARDED = {
    # updated_at says when a record's data changed: the upkeep's rank writes do not count.
    "touch": (
        "BEFORE UPDATE ON {table} FOR EACH ROW {when} EXECUTE FUNCTION touch_updated_at()",
        f"WHEN ({NOT_UPKEEP})",
    ),
    # Nor do they raise the layer's version again: the statement they follow did (once per
    # statement, migration 0002); a refresh called on its own (depth 0) does raise it.
    "changes": (
        "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT {when} "
        "EXECUTE FUNCTION note_layer_change()",
        f"WHEN (pg_trigger_depth() = 0 OR {NOT_UPKEEP})",
    ),
    # History (migration 0007) keeps changes of the data, not of the ranks.
    "history_update": (
        "AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT {when} "
        "EXECUTE FUNCTION keep_history_update()",
        f"WHEN ({NOT_UPKEEP})",
    ),
    # A project's sites did not change either (migration 0006's counter of projects).
    "projects_changes": (
        "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT {when} "
        "EXECUTE FUNCTION note_change_of('projects')",
        f"WHEN (pg_trigger_depth() = 0 OR {NOT_UPKEEP})",
    ),
}
"""Triggers ``{table}_{name}`` recreated with a guard (definition, guard)."""


def upgrade() -> None:
    for statement in FUNCTIONS:
        op.execute(statement)
    for table, rank_class in RANKED.items():
        quoted = "NULL" if rank_class is None else f"$class${rank_class}$class$"
        op.execute(f"INSERT INTO tile_ranks VALUES ('{table}', {quoted})")
        op.execute(
            f"SELECT tile_rank_alter('{table}', 'ADD COLUMN minzoom smallint NOT NULL DEFAULT 0')"
        )
        for name, (definition, when) in GUARDED.items():
            op.execute(f"DROP TRIGGER {table}_{name} ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_{name} " + definition.format(table=table, when=when)
            )
        leading = f"({rank_class}), " if rank_class else ""
        op.execute(f"CREATE INDEX {table}_minzoom_idx ON {table} (minzoom)")
        op.execute(f"CREATE INDEX {table}_tile_key_idx ON {table} ({leading}tile_key(geom), id)")
        op.execute(f"SELECT tile_rank_refresh('{table}')")
        op.execute(
            f"CREATE TRIGGER {table}_rank_lock BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tile_rank_lock()"
        )
        for event, tables in (
            ("INSERT", "NEW TABLE AS rank_new"),
            ("UPDATE", "OLD TABLE AS rank_old NEW TABLE AS rank_new"),
            ("DELETE", "OLD TABLE AS rank_old"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_rank_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION tile_rank_upkeep()"
            )


def downgrade() -> None:
    for table in RANKED:
        for event in ("insert", "update", "delete", "lock"):
            op.execute(f"DROP TRIGGER {table}_rank_{event} ON {table}")
        for name, (definition, _) in GUARDED.items():
            op.execute(f"DROP TRIGGER {table}_{name} ON {table}")
            plain = definition.format(table=table, when="")
            op.execute(f"CREATE TRIGGER {table}_{name} {plain}")
        op.execute(f"DROP INDEX {table}_tile_key_idx")
        op.execute(f"SELECT tile_rank_alter('{table}', 'DROP COLUMN minzoom')")  # and its index
    for function in (
        "tile_rank_alter(regclass, text)",
        "tile_rank_lock()",
        "tile_rank_upkeep()",
        "tile_rank_refresh(regclass)",
        "tile_rank(bigint, bigint)",
        "tile_key(geometry)",
    ):
        op.execute(f"DROP FUNCTION {function}")
    op.execute("DROP TABLE tile_ranks")
