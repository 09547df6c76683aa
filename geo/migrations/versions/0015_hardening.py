"""Hardening: signing out, sharing with real organisations only, application numbers
that count nothing, and a feature's history shown with the feature.

- **Token generation.** ``users.token_generation`` is written into every bearer token
  (api/auth.py) and compared on every use: signing out (``POST /auth/logout``) and
  ``emining user deactivate`` move it on, so every token issued before stops working at once
  instead of living out its hour.
- **shared_with names organisations.** An array cannot carry a foreign key, so a row trigger on
  every table with ``shared_with`` refuses an id with no organisation (SQLSTATE 23503, a
  foreign-key violation, whose message names the column and the ids): ``[999999]`` or ``[-1]``
  stored a sharing with nobody that a future organisation could inherit.
- **Applications count nothing.** A concession the API writes as an application gets a random
  id (10^11 to 10^12 - 1) and is numbered ``APP-YYYY-<id>`` (``concessions_licensing`` sits
  between the two triggers that do it), so
  neither its feature id nor its number tells an applicant how many applications others made
  in between (sequential ones did). Rows written by the store's owner (loads) keep the
  sequence.
- **Unconditional writes are marked.** QGIS (and most OAPIF clients) replace, update and delete
  without ``If-Match``; the API accepts such a write and says so (``emining.unconditional``,
  api/ogc/transactions.py), and the history keeps it in ``history.unconditional``, so an
  auditor can tell a write made against a known version from one that was not.
- **History with the feature.** ``emining_history(layer, fid)``: a feature's versions for
  whoever may see the feature now, or saw that version (the policy of 0007, which alone showed
  a row made public with a 404 history). A version the caller could not have seen when it was
  current is listed (number, operation, time) but *withheld*: no content and no author, since
  making a record public publishes what it is now, not what it was while confidential.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

LAYERS = ("provinces", "districts", "deposits", "concessions", "facilities", "sezs", "corridors")
SHARED = (*LAYERS, "projects")
APPLICATION_IDS = (10**11, 10**12 - 1)


# Migration 0007's history functions, with the new column (who: as in 0007).
NEXT_VERSION = (
    "coalesce((SELECT max(h.version) FROM history h "
    'WHERE h.layer = TG_TABLE_NAME::text COLLATE "default" AND h.fid = r.id), 0) + 1'
)
WHO = (
    "emining_user(), emining_org(), CASE current_setting('role') WHEN 'none' "
    "THEN session_user::text ELSE current_setting('role') END"
)
ROW_JSON = "to_jsonb(r) - 'geom' || jsonb_build_object('geom', r.geom::text)"


def history_function(event: str, unconditional: bool) -> str:
    column, value = ("", "")
    if unconditional:
        column = ", unconditional"
        value = ", coalesce(current_setting('emining.unconditional', true) = 'on', false)"
    return f"""CREATE OR REPLACE FUNCTION keep_history_{event}() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = public SET enable_seqscan = off AS $$
        BEGIN INSERT INTO history (layer, fid, version, op, by_user, by_org, by_role,
                before, visibility, owner_org, shared_with{column})
            SELECT TG_TABLE_NAME, r.id, {NEXT_VERSION}, '{event}', {WHO}, {ROW_JSON},
                   r.visibility, r.owner_org, r.shared_with{value} FROM old_rows r;
        RETURN NULL; END $$"""


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN token_generation integer NOT NULL DEFAULT 0")
    op.execute("ALTER TABLE history ADD COLUMN unconditional boolean NOT NULL DEFAULT false")
    for event in ("update", "delete"):
        op.execute(history_function(event, unconditional=True))

    op.execute(
        """CREATE FUNCTION emining_shared_with_check() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = public AS $$
        DECLARE missing bigint[];
        BEGIN
            SELECT array_agg(DISTINCT x ORDER BY x) INTO missing FROM unnest(NEW.shared_with) x
            WHERE x IS NULL OR NOT EXISTS (SELECT 1 FROM organisations o WHERE o.id = x);
            IF missing IS NOT NULL THEN
                RAISE EXCEPTION 'shared_with: no organisation %', array_to_string(missing, ', ',
                    'null') USING ERRCODE = 'foreign_key_violation';
            END IF;
            RETURN NEW;
        END $$"""
    )
    for table in SHARED:
        op.execute(
            f"CREATE TRIGGER {table}_shared_with BEFORE INSERT OR UPDATE OF shared_with "
            f"ON {table} FOR EACH ROW WHEN (cardinality(NEW.shared_with) > 0) "
            "EXECUTE FUNCTION emining_shared_with_check()"
        )

    low, high = APPLICATION_IDS
    # Two steps around concessions_licensing (triggers fire in name order): the id before it
    # (which claims the area under that id), the number after it (0009 pads the id to six
    # digits and would cut a longer one).
    op.execute(
        f"""CREATE FUNCTION emining_random_application_id() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status = 'application' AND emining_user() IS NOT NULL THEN
                IF TG_ARGV[0] = 'id' THEN
                    NEW.id := {low} + floor(random() * {high - low + 1})::bigint;
                ELSIF NEW.id >= {low} THEN
                    NEW.licence_no := format('APP-%s-%s', to_char(NEW.applied_on, 'YYYY'),
                                             NEW.id);
                END IF;
            END IF;
            RETURN NEW;
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER concessions_a_random_id BEFORE INSERT ON concessions "
        "FOR EACH ROW EXECUTE FUNCTION emining_random_application_id('id')"
    )
    op.execute(
        "CREATE TRIGGER concessions_m_random_number BEFORE INSERT ON concessions "
        "FOR EACH ROW EXECUTE FUNCTION emining_random_application_id('number')"
    )

    layers = ", ".join(f"'{layer}'" for layer in LAYERS)
    op.execute(
        f"""CREATE FUNCTION emining_history(layer_name text, feature bigint)
        RETURNS TABLE (version integer, op text, at timestamptz, by_user bigint, by_org bigint,
                       by_role text, before jsonb, seen boolean, unconditional boolean)
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
        DECLARE visible_now boolean := false;
        BEGIN
            IF layer_name NOT IN ({layers}) THEN
                RETURN;
            END IF;
            EXECUTE format('SELECT emining_can_see(visibility, owner_org, shared_with) '
                           'FROM %I WHERE id = $1', layer_name) INTO visible_now USING feature;
            RETURN QUERY
            SELECT h.version, h.op, h.at,
                   CASE WHEN s.seen THEN h.by_user END, CASE WHEN s.seen THEN h.by_org END,
                   CASE WHEN s.seen THEN h.by_role END, CASE WHEN s.seen THEN h.before END,
                   s.seen, h.unconditional
            FROM history h
            CROSS JOIN LATERAL (SELECT emining_can_see(h.visibility, h.owner_org,
                                                       h.shared_with) AS seen) s
            WHERE h.layer = layer_name AND h.fid = feature
              AND (coalesce(visible_now, false) OR s.seen)
            ORDER BY h.version;
        END $$"""
    )
    op.execute("GRANT EXECUTE ON FUNCTION emining_history(text, bigint) TO emining_api")


def downgrade() -> None:
    op.execute("DROP FUNCTION emining_history(text, bigint)")
    op.execute("DROP TRIGGER concessions_m_random_number ON concessions")
    op.execute("DROP TRIGGER concessions_a_random_id ON concessions")
    op.execute("DROP FUNCTION emining_random_application_id()")
    for table in SHARED:
        op.execute(f"DROP TRIGGER {table}_shared_with ON {table}")
    op.execute("DROP FUNCTION emining_shared_with_check()")
    for event in ("update", "delete"):
        op.execute(history_function(event, unconditional=False))
    op.execute("ALTER TABLE history DROP COLUMN unconditional")
    op.execute("ALTER TABLE users DROP COLUMN token_generation")
