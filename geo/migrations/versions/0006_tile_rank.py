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

Rank classes (the access work): a row the current user cannot see must not stand for a cell in
which they can see another. ``RANKED`` names, per table, the columns whose values split it into
classes ranked separately (e.g. ``("visibility",)``, or ``("visibility", "owner")`` when rows of
one visibility are seen by some users and not others): each class then has its own
representative per cell, and a user who can see a class sees its every representative. Adding a
class is that one line, here, before the migration first runs (the columns must be NOT NULL).
The functions read the classes from the ``tile_ranks`` table this fills, and so does the loader.
The upkeep runs as the function's owner (SECURITY DEFINER), so row-level security never hides
rows from the ranking.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-26
"""

from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

RANKED: dict[str, tuple[str, ...]] = {"deposits": (), "facilities": ()}
"""Point tables thinned in tiles, each with its rank class columns (see the docstring)."""

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
        classes text[] NOT NULL DEFAULT '{}'
    )""",
    # Every rank of the table, in one window pass; writes only the rows whose rank differs.
    # No JIT (here and in the upkeep): compiling the key's long expression cost more than the
    # pass itself (2.1 s against 1.2 s for a million rows).
    f"""CREATE FUNCTION tile_rank_refresh(t regclass) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
    DECLARE
        class_list text;  -- "a, b, " (or nothing): the class columns, to select
        partition_by text;  -- "PARTITION BY a, b" (or nothing)
        ranked text;
        changed bigint;
    BEGIN
        SELECT coalesce(string_agg(format('%I, ', c), ''), ''),
               coalesce('PARTITION BY ' || string_agg(format('%I', c), ', '), '')
        INTO class_list, partition_by
        FROM tile_ranks, unnest(tile_ranks.classes) c WHERE tile_ranks.layer = t;
        ranked := format('SELECT id, minzoom, tile_rank(key, lag(key) OVER (%s ORDER BY key, id))'
            ' AS rank FROM (SELECT id, minzoom, %s tile_key(geom) AS key FROM %s) s',
            partition_by, class_list, t);
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
    # removed position, get the rank their (new) predecessor gives them.
    f"""CREATE FUNCTION tile_rank_upkeep() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET jit = off AS $$
    DECLARE
        t regclass := TG_RELID;
        class_list text := '';  -- "a, b, ": the class columns, to select
        descending text := '';  -- "a DESC, b DESC, "
        same_next text := '';  -- "x.a = c.a AND ": a position and its successor's class
        same_previous text := '';  -- "p.a = x.a AND ": a row and its predecessor's class
        positions text := 'SELECT id, %s tile_key(geom) AS key FROM %s';
        added text;
        removed text;
        written bigint := 0;
        column_name text;
    BEGIN
        IF current_setting('{GUARD}', true) = 'on' THEN
            RETURN NULL;  -- the upkeep's own rank writes
        END IF;
        FOR column_name IN
            SELECT unnest(classes) FROM tile_ranks WHERE layer = t
        LOOP
            class_list := class_list || format('%I, ', column_name);
            descending := descending || format('%I DESC, ', column_name);
            same_next := same_next || format('x.%I = c.%I AND ', column_name, column_name);
            same_previous := same_previous || format('p.%I = x.%I AND ', column_name, column_name);
        END LOOP;
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
            WHEN 'INSERT' THEN format(positions, class_list, 'rank_new')
            WHEN 'UPDATE' THEN format(positions, class_list, 'rank_new') || ' EXCEPT '
                || format(positions, class_list, 'rank_old')
            ELSE format(positions, class_list, t) || ' WHERE false' END;
        removed := CASE TG_OP
            WHEN 'DELETE' THEN format(positions, class_list, 'rank_old')
            WHEN 'UPDATE' THEN format(positions, class_list, 'rank_old') || ' EXCEPT '
                || format(positions, class_list, 'rank_new')
            ELSE format(positions, class_list, t) || ' WHERE false' END;
        PERFORM set_config('{GUARD}', 'on', true);
        EXECUTE format($q$
            WITH added AS (%1$s), removed AS (%2$s),
            touched AS (
                SELECT id FROM added
                UNION
                SELECT n.id FROM (SELECT * FROM added UNION ALL SELECT * FROM removed) c
                CROSS JOIN LATERAL (
                    SELECT x.id FROM %3$s x WHERE %4$s (tile_key(x.geom), x.id) > (c.key, c.id)
                    ORDER BY %5$s tile_key(x.geom), x.id LIMIT 1) n
            ),
            ranked AS (
                SELECT x.id, tile_rank(tile_key(x.geom), p.key) AS rank
                FROM %3$s x JOIN touched USING (id)
                LEFT JOIN LATERAL (
                    SELECT tile_key(p.geom) AS key FROM %3$s p
                    WHERE %6$s (tile_key(p.geom), p.id) < (tile_key(x.geom), x.id)
                    ORDER BY %7$s tile_key(p.geom) DESC, p.id DESC LIMIT 1) p ON true
            )
            UPDATE %3$s t SET minzoom = ranked.rank FROM ranked
            WHERE t.id = ranked.id AND t.minzoom <> ranked.rank$q$,
            added, removed, t, same_next, class_list, same_previous, descending);
        PERFORM set_config('{GUARD}', 'off', true);
        RETURN NULL;
    END $$""",
    # Before each writing statement: one writing transaction at a time per ranked table.
    """CREATE FUNCTION tile_rank_lock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('tile_rank'), hashtext(TG_TABLE_NAME));
        RETURN NULL;
    END $$""",
]


def upgrade() -> None:
    for statement in FUNCTIONS:
        op.execute(statement)
    for table, classes in RANKED.items():
        listed = ", ".join(f"'{c}'" for c in classes)
        op.execute(f"INSERT INTO tile_ranks VALUES ('{table}', ARRAY[{listed}]::text[])")
        op.execute(f"ALTER TABLE {table} ADD COLUMN minzoom smallint NOT NULL DEFAULT 0")
        # updated_at says when a record's data changed: the upkeep's rank writes do not count.
        # Nor do they raise the layer's version again: the statement they follow did (once per
        # statement, migration 0002); a refresh called on its own does raise it.
        op.execute(f"DROP TRIGGER {table}_touch ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({NOT_UPKEEP}) EXECUTE FUNCTION touch_updated_at()"
        )
        op.execute(f"DROP TRIGGER {table}_changes ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0 OR {NOT_UPKEEP}) "
            "EXECUTE FUNCTION note_layer_change()"
        )
        order = "".join(f"{c}, " for c in classes)
        op.execute(f"CREATE INDEX {table}_minzoom_idx ON {table} (minzoom)")
        op.execute(f"CREATE INDEX {table}_tile_key_idx ON {table} ({order}tile_key(geom), id)")
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
        op.execute(f"DROP TRIGGER {table}_touch ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION touch_updated_at()"
        )
        op.execute(f"DROP TRIGGER {table}_changes ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION note_layer_change()"
        )
        op.execute(f"ALTER TABLE {table} DROP COLUMN minzoom")  # and its indexes
        op.execute(f"DROP INDEX IF EXISTS {table}_tile_key_idx")
    for function in (
        "tile_rank_lock()",
        "tile_rank_upkeep()",
        "tile_rank_refresh(regclass)",
        "tile_rank(bigint, bigint)",
        "tile_key(geometry)",
    ):
        op.execute(f"DROP FUNCTION {function}")
    op.execute("DROP TABLE tile_ranks")
