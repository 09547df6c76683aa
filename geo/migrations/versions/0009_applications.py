"""Licence applications: a priority stamp, conflicts with licences and applications, decisions.

An application is a concession row with status ``application``, owned by the applicant. The
rules that make the register trustworthy live here, in a trigger on ``concessions``, so that the
applications endpoints, OGC Part 4 writes and psql as the API role all obey them alike:

- **Stamp.** ``applied_at`` (timestamptz) is the applicant's place in the queue. For a request
  acting through the API (``current_user = emining_api``) the database stamps it with
  ``clock_timestamp()`` *after* taking the applications lock, so stamps are in the order in
  which applications were checked and accepted, never in the order clients claim; the API can
  never change a stamp afterwards. The platform also numbers the application (``APP-2026-000042``)
  and sets ``applied_on`` to the stamp's day in Pakistan (Asia/Karachi).
- **Conflicts.** A block conflicts with every *active* licence (granted, renewed, suspended: a
  suspended licence still holds its area and may be reinstated) and every *pending* application
  (all of them stamped earlier, since the check holds the lock) whose area overlaps it by more
  than a sliver: the block is shrunk by ``TOLERANCE_M`` metres (on the spheroid, geography)
  before testing, so blocks that share an edge, or overlap by less than a metre of digitising
  noise, do not conflict. Expired, relinquished and refused records free their area. Any
  commodity conflicts: a licence's area is exclusive, whatever mineral it names. The overlap
  reported is the full intersection's area in km² on the spheroid, as ``area_km2`` is computed.
- **Visibility.** ``emining_application_conflicts`` runs as the store's owner (SECURITY DEFINER):
  the check must see every record, including confidential applications of other enterprises.
  It returns a record's number, status and stamp only when the *caller* may see the record
  (``emining_can_see`` reads the caller's settings, which a definer function keeps); of a hidden
  record it says only whether it is a licence or an application and the overlap area.
- **Races.** ``emining_lock_applications`` takes one transaction-level advisory lock for every
  application check-and-insert: two overlapping applications sent at the same moment are
  serialised and the second sees the first. Applications are few (a handful a day), so one
  platform-wide lock costs nothing worth a finer scheme.
- **Decisions.** Only an approver or admin of an authority (``emining_may_decide``) changes a
  record's status, by the steps of ``emining_licence_next``: application → granted, refused or
  relinquished (withdrawn); granted or renewed → renewed, suspended, expired, relinquished;
  suspended → granted or renewed (reinstated), expired, relinquished; expired, relinquished and
  refused are final. A renewal needs a later expiry date. An extra UPDATE policy lets deciders
  reach records owned by enterprises, and the trigger then lets them change only the decision
  (status, licence number, dates); a grant without a date is granted today, and a grant checks
  the block once more (a record loaded since by the store's owner may overlap it). Once decided, a
  licence's terms (block, commodities, type, number, dates) are the authority's: its holder may
  no longer change them, nor delete it.
  ``refused`` is new in the status vocabulary: without it a refusal would be mislabelled as an
  expiry or a relinquishment.
- **Owner paths.** The store's owner (``emining load``, psql) records what it is given: an
  operator importing a register is not an applicant. A stamp missing there is taken from
  ``applied_on`` (midnight in Pakistan), or now.

Every step is a concession update, so migration 0007's triggers keep it in ``history``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

API_ROLE = "emining_api"
LOCK = 724_313  # pg_advisory_xact_lock key: one application check-and-insert at a time
TOLERANCE_M = 1.0
MOVED = 1e-7
ZONE = "Asia/Karachi"
OLD_STATUS = ("application", "granted", "renewed", "suspended", "expired", "relinquished")
STATUS = (*OLD_STATUS, "refused")
ACTIVE = ("granted", "renewed", "suspended")
NEXT = {
    "application": ("granted", "refused", "relinquished"),
    "granted": ("renewed", "suspended", "expired", "relinquished"),
    "renewed": ("renewed", "suspended", "expired", "relinquished"),
    "suspended": ("granted", "renewed", "expired", "relinquished"),
}
DECISION = ("status", "licence_no", "granted_on", "expires_on")
"""What a decider may change on a record that is not theirs."""
TERMS = ("geom", "commodities", "licence_type", "licence_no", "granted_on", "expires_on")
"""What a holder may not change once the application is decided (status is a decision)."""
DERIVED = ("updated_at", "area_km2", "applied_at", "applied_on")
UNCHECKED = (*DECISION, *DERIVED, "geom")
"""Left out when comparing a decider's change of another's record (the block is compared apart)."""


def listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def status_check(values: tuple[str, ...]) -> str:
    return (
        "ALTER TABLE concessions DROP CONSTRAINT concessions_status_check, "
        f"ADD CONSTRAINT concessions_status_check CHECK (status IN ({listed(values)}))"
    )


def changed(columns: tuple[str, ...]) -> str:
    """SQL: is any of ``columns`` different between OLD and NEW? (the block by ``emining_moved``)"""
    return " OR ".join(
        "emining_moved(NEW.geom, OLD.geom)" if c == "geom" else f"NEW.{c} IS DISTINCT FROM OLD.{c}"
        for c in columns
    )


def as_of_view() -> str:
    """Migration 0007's ``concessions_as_of``: its ``t.*`` was expanded when it was created, so
    it is written again to carry the new column (CREATE OR REPLACE keeps its grants)."""
    return """CREATE OR REPLACE VIEW concessions_as_of WITH (security_invoker = true) AS
        SELECT t.* FROM concessions t WHERE NOT EXISTS (
            SELECT 1 FROM history h WHERE h.layer = 'concessions' AND h.fid = t.id
            AND h.at > current_setting('emining.as_of')::timestamptz)
        UNION ALL
        SELECT (jsonb_populate_record(NULL::concessions, h.before)).* FROM (
            SELECT DISTINCT ON (fid) op, before FROM history
            WHERE layer = 'concessions' AND at > current_setting('emining.as_of')::timestamptz
            ORDER BY fid, version) h
        WHERE h.op <> 'insert'"""


def upgrade() -> None:
    op.execute("ALTER TABLE concessions ADD COLUMN applied_at timestamptz")
    op.execute(as_of_view())
    op.execute(
        f"UPDATE concessions SET applied_at = applied_on::timestamp AT TIME ZONE '{ZONE}' "
        "WHERE applied_on IS NOT NULL"
    )
    op.execute("UPDATE concessions SET applied_at = updated_at WHERE status = 'application' "
               "AND applied_at IS NULL")  # fmt: skip
    op.execute(status_check(STATUS))
    op.execute(
        "ALTER TABLE concessions ADD CONSTRAINT concessions_application_stamped "
        "CHECK (status <> 'application' OR applied_at IS NOT NULL)"
    )

    op.execute(
        """CREATE FUNCTION emining_may_decide() RETURNS boolean
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT coalesce(emining_org_kind() = 'authority'
                        AND emining_role() IN ('approver', 'admin'), false) $$"""
    )
    # A feature read as GeoJSON (9 decimals) and written back is the same block: a change is a
    # vertex moved by more than MOVED degrees (about a centimetre), not a rounding.
    op.execute(
        f"""CREATE FUNCTION emining_moved(a geometry, b geometry) RETURNS boolean
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT a IS DISTINCT FROM b AND ST_HausdorffDistance(a, b) > {MOVED} $$"""
    )
    cases = " ".join(f"WHEN '{k}' THEN ARRAY[{listed(v)}]" for k, v in NEXT.items())
    op.execute(
        f"""CREATE FUNCTION emining_licence_next(status text) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE status {cases} ELSE ARRAY[]::text[] END $$"""
    )
    op.execute(
        f"""CREATE FUNCTION emining_lock_applications() RETURNS void LANGUAGE sql AS $$
        SELECT pg_advisory_xact_lock({LOCK}) $$"""
    )
    op.execute(
        f"""CREATE FUNCTION emining_application_conflicts(area geometry, self bigint DEFAULT NULL)
        RETURNS TABLE (visible boolean, kind text, licence_no text, status text,
                       applied_at timestamptz, overlap_km2 double precision)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
        WITH inner_part AS (SELECT ST_Buffer(area::geography, -{TOLERANCE_M})::geometry AS g),
        hits AS (
            SELECT c.*, emining_can_see(c.visibility, c.owner_org, c.shared_with) AS seen
            FROM concessions c, inner_part i
            WHERE c.status IN ('application', {listed(ACTIVE)})
              AND c.id IS DISTINCT FROM self
              AND c.geom && i.g AND ST_Intersects(c.geom, i.g))
        SELECT seen,
               CASE WHEN status = 'application' THEN 'application' ELSE 'licence' END,
               CASE WHEN seen THEN licence_no END,
               CASE WHEN seen THEN status END,
               CASE WHEN seen THEN applied_at END,
               ST_Area(ST_Intersection(geom, area)::geography) / 1e6
        FROM hits ORDER BY status = 'application', applied_at, licence_no $$"""
    )
    op.execute(
        """CREATE FUNCTION emining_claim_area(area geometry, self bigint) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE n integer; km2 double precision;
        BEGIN
            PERFORM emining_lock_applications();
            SELECT count(*), sum(overlap_km2) INTO n, km2
            FROM emining_application_conflicts(area, self);
            IF n > 0 THEN
                RAISE EXCEPTION 'the block overlaps % active licence(s) or earlier '
                    'application(s) by % km² in all; POST /applications/check names those '
                    'you may see', n, round(km2::numeric, 3)
                    USING ERRCODE = 'exclusion_violation';
            END IF;
        END $$"""
    )
    op.execute(
        f"""CREATE FUNCTION concessions_licensing() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            api boolean := current_user = '{API_ROLE}';
            decider boolean := emining_may_decide();
            allowed text[];
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF api AND OLD.status <> 'application' AND NOT decider THEN
                    RAISE EXCEPTION 'licence % is the authority''s record: only an approver or '
                        'admin of an authority deletes it', OLD.licence_no
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN OLD;
            END IF;
            IF NOT api THEN
                IF NEW.status = 'application' AND NEW.applied_at IS NULL THEN
                    NEW.applied_at := coalesce(NEW.applied_on::timestamp AT TIME ZONE '{ZONE}',
                                               clock_timestamp());
                END IF;
                RETURN NEW;
            END IF;
            IF TG_OP = 'INSERT' THEN
                IF NEW.status <> 'application' THEN
                    IF NOT decider THEN
                        RAISE EXCEPTION 'a new record is an application; only an approver or '
                            'admin of an authority records a % licence', NEW.status
                            USING ERRCODE = 'insufficient_privilege';
                    END IF;
                    RETURN NEW;
                END IF;
                PERFORM emining_claim_area(NEW.geom, NEW.id);
                NEW.applied_at := clock_timestamp();
                NEW.applied_on := (NEW.applied_at AT TIME ZONE '{ZONE}')::date;
                NEW.licence_no := format('APP-%s-%s', to_char(NEW.applied_on, 'YYYY'),
                                         lpad(NEW.id::text, 6, '0'));
                NEW.granted_on := NULL;
                NEW.expires_on := NULL;
                RETURN NEW;
            END IF;
            NEW.applied_at := OLD.applied_at;
            NEW.applied_on := OLD.applied_on;
            IF NEW.status IS DISTINCT FROM OLD.status THEN
                IF NOT decider THEN
                    RAISE EXCEPTION 'only an approver or admin of an authority changes the '
                        'status of %', OLD.licence_no USING ERRCODE = 'insufficient_privilege';
                END IF;
                allowed := emining_licence_next(OLD.status);
                IF NOT NEW.status = ANY(allowed) THEN
                    RAISE EXCEPTION '% is %: it may become %, not %', OLD.licence_no,
                        OLD.status, coalesce(nullif(array_to_string(allowed, ', '), ''),
                        'nothing else (final)'), NEW.status USING ERRCODE = 'check_violation';
                END IF;
                IF NEW.status = 'renewed' AND OLD.expires_on IS NOT NULL
                   AND NOT coalesce(NEW.expires_on > OLD.expires_on, false) THEN
                    RAISE EXCEPTION 'renewing % needs an expiry date after %', OLD.licence_no,
                        OLD.expires_on USING ERRCODE = 'check_violation';
                END IF;
                IF OLD.status = 'application' AND NEW.status = 'granted' THEN
                    PERFORM emining_claim_area(NEW.geom, NEW.id);
                    NEW.granted_on := coalesce(NEW.granted_on,
                                               (now() AT TIME ZONE '{ZONE}')::date);
                END IF;
            END IF;
            IF NOT decider THEN
                IF OLD.status <> 'application' AND ({changed(TERMS)}) THEN
                    RAISE EXCEPTION 'the terms of % (block, commodities, type, number, dates) '
                        'are the authority''s once decided', OLD.licence_no
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                IF OLD.status = 'application' AND ({changed(DECISION)}) THEN
                    RAISE EXCEPTION 'the number and dates of application % are the platform''s '
                        'and the authority''s', OLD.licence_no
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
            ELSIF NOT emining_can_write(OLD.owner_org) AND (emining_moved(NEW.geom, OLD.geom)
                  OR (to_jsonb(NEW) - ARRAY[{listed(UNCHECKED)}])
                      IS DISTINCT FROM (to_jsonb(OLD) - ARRAY[{listed(UNCHECKED)}])) THEN
                RAISE EXCEPTION 'an authority decides the status, number and dates of %; the '
                    'rest of the record is its owner''s', OLD.licence_no
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NEW.status = 'application' AND emining_moved(NEW.geom, OLD.geom) THEN
                PERFORM emining_claim_area(NEW.geom, NEW.id);
            END IF;
            RETURN NEW;
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER concessions_licensing BEFORE INSERT OR UPDATE OR DELETE ON concessions "
        "FOR EACH ROW EXECUTE FUNCTION concessions_licensing()"
    )
    op.execute(
        f"CREATE POLICY concessions_decide ON concessions FOR UPDATE TO {API_ROLE} "
        "USING (emining_may_decide()) WITH CHECK (emining_may_decide())"
    )


def downgrade() -> None:
    op.execute("DROP POLICY concessions_decide ON concessions")
    op.execute("DROP TRIGGER concessions_licensing ON concessions")
    op.execute("DROP FUNCTION concessions_licensing()")
    op.execute("DROP FUNCTION emining_claim_area(geometry, bigint)")
    op.execute("DROP FUNCTION emining_application_conflicts(geometry, bigint)")
    op.execute("DROP FUNCTION emining_lock_applications()")
    op.execute("DROP FUNCTION emining_licence_next(text)")
    op.execute("DROP FUNCTION emining_may_decide()")
    op.execute("DROP FUNCTION emining_moved(geometry, geometry)")
    op.execute("ALTER TABLE concessions DROP CONSTRAINT concessions_application_stamped")
    op.execute("UPDATE concessions SET status = 'expired' WHERE status = 'refused'")
    op.execute(status_check(OLD_STATUS))
    op.execute("DROP VIEW concessions_as_of")
    op.execute("ALTER TABLE concessions DROP COLUMN applied_at")
    op.execute(as_of_view())
    op.execute(f"GRANT SELECT ON concessions_as_of TO {API_ROLE}")
