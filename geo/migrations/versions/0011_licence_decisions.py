"""Licence decisions with their reasons, and applicants withdrawing their own applications.

- **Reasons.** ``licence_decisions`` keeps every step of a licence's life that someone decided:
  from which status to which, why (required text), when, and who (user, organisation, role, from
  the request's claims as migration 0007's history records them). An authority's decision and
  its reason are written in one transaction (``geo.licensing.decide``); only a decider may add
  a row (policy), and nobody through the API changes or deletes one. A row is seen by whoever
  sees its licence (the policy reads ``concessions`` under the caller's own rules), so a refused
  applicant reads why, and nobody else learns of a confidential application through it.
- **Withdrawal.** Migration 0009 lets only deciders change a status, which left an applicant no
  way to withdraw but deleting the record. ``emining_withdraw_application`` moves the caller's
  own *pending* application to ``relinquished`` (the step 0009 calls withdrawn), with a reason,
  and nothing else: it runs as the store's owner (SECURITY DEFINER, so 0009's trigger takes it
  as the owner path) after checking, from the caller's claims, that the record is visible to
  them, that their organisation owns it, that their role writes, and that it is pending. The
  status change is a concession update, so the history keeps it, attributed to the caller.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

API_ROLE = "emining_api"


def upgrade() -> None:
    op.execute(
        """CREATE TABLE licence_decisions (
            id bigserial PRIMARY KEY,
            concession_id bigint NOT NULL,
            from_status text NOT NULL,
            to_status text NOT NULL,
            reason text NOT NULL CHECK (btrim(reason) <> ''),
            decided_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            by_user bigint DEFAULT emining_user(),
            by_org bigint DEFAULT emining_org(),
            by_role text DEFAULT emining_role()
        )"""
    )
    op.execute("CREATE INDEX licence_decisions_concession_idx ON licence_decisions (concession_id)")
    op.execute("ALTER TABLE licence_decisions ENABLE ROW LEVEL SECURITY")
    op.execute(f"GRANT SELECT, INSERT ON licence_decisions TO {API_ROLE}")
    op.execute(f"GRANT USAGE ON SEQUENCE licence_decisions_id_seq TO {API_ROLE}")
    op.execute(
        f"CREATE POLICY licence_decisions_read ON licence_decisions FOR SELECT TO {API_ROLE} "
        "USING (EXISTS (SELECT 1 FROM concessions c WHERE c.id = concession_id))"
    )
    op.execute(
        f"CREATE POLICY licence_decisions_write ON licence_decisions FOR INSERT TO {API_ROLE} "
        "WITH CHECK (emining_may_decide())"
    )
    op.execute(
        """CREATE FUNCTION emining_withdraw_application(fid bigint, why text) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
        DECLARE r concessions%ROWTYPE;
        BEGIN
            SELECT * INTO r FROM concessions WHERE id = fid FOR UPDATE;
            IF NOT FOUND OR NOT emining_can_see(r.visibility, r.owner_org, r.shared_with) THEN
                RAISE EXCEPTION 'no licence or application %', fid
                    USING ERRCODE = 'no_data_found';
            END IF;
            IF r.owner_org IS DISTINCT FROM emining_org() OR NOT emining_can_write(r.owner_org)
            THEN
                RAISE EXCEPTION 'only an editor, approver or admin of the applicant withdraws %',
                    r.licence_no USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF r.status <> 'application' THEN
                RAISE EXCEPTION '% is %: only a pending application may be withdrawn',
                    r.licence_no, r.status USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            UPDATE concessions SET status = 'relinquished' WHERE id = fid;
            INSERT INTO licence_decisions (concession_id, from_status, to_status, reason)
            VALUES (fid, 'application', 'relinquished', why);
        END $$"""
    )
    op.execute("REVOKE ALL ON FUNCTION emining_withdraw_application(bigint, text) FROM PUBLIC")
    op.execute(
        f"GRANT EXECUTE ON FUNCTION emining_withdraw_application(bigint, text) TO {API_ROLE}"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION emining_withdraw_application(bigint, text)")
    op.execute("DROP TABLE licence_decisions")
