"""Hardening (issue 15): signing out, sharing with real organisations only, application numbers
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
  id (10^11 to 10^12 - 1) before ``concessions_licensing`` numbers it ``APP-YYYY-<id>``, so
  neither its feature id nor its number tells an applicant how many applications others made
  in between (sequential ones did). Rows written by the store's owner (loads) keep the
  sequence. Triggers of one event fire in name order: ``concessions_a_random_id`` comes first.
- **History with the feature.** ``emining_history(layer, fid)``: a feature's versions for
  whoever may see the feature now, or saw that version (the policy of 0007, which alone showed
  a row made public with a 404 history). A version the caller could not have seen when it was
  current is listed (number, operation, time) but *withheld*: no content and no author, since
  making a record public publishes what it is now, not what it was while confidential.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-06
"""

from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None

LAYERS = ("provinces", "districts", "deposits", "concessions", "facilities", "sezs", "corridors")
SHARED = (*LAYERS, "projects")
APPLICATION_IDS = (10**11, 10**12 - 1)


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN token_generation integer NOT NULL DEFAULT 0")

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
    op.execute(
        f"""CREATE FUNCTION emining_random_application_id() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status = 'application' AND emining_user() IS NOT NULL THEN
                NEW.id := {low} + floor(random() * {high - low + 1})::bigint;
            END IF;
            RETURN NEW;
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER concessions_a_random_id BEFORE INSERT ON concessions "
        "FOR EACH ROW EXECUTE FUNCTION emining_random_application_id()"
    )

    layers = ", ".join(f"'{layer}'" for layer in LAYERS)
    op.execute(
        f"""CREATE FUNCTION emining_history(layer_name text, feature bigint)
        RETURNS TABLE (version integer, op text, at timestamptz, by_user bigint, by_org bigint,
                       by_role text, before jsonb, seen boolean)
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
                   s.seen
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
    op.execute("DROP TRIGGER concessions_a_random_id ON concessions")
    op.execute("DROP FUNCTION emining_random_application_id()")
    for table in SHARED:
        op.execute(f"DROP TRIGGER {table}_shared_with ON {table}")
    op.execute("DROP FUNCTION emining_shared_with_check()")
    op.execute("ALTER TABLE users DROP COLUMN token_generation")
