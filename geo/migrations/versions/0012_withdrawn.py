"""A withdrawn application is ``withdrawn``, and each decision finds its step in the history.

- **Withdrawn.** Migrations 0009 and 0011 recorded an application its applicant withdrew as
  ``relinquished``, the word for a holder giving a granted licence back. The register then could
  not tell a block never licensed from one given up after years of work, nor count withdrawals:
  the same reason 0009 added ``refused`` rather than calling a refusal an expiry. ``withdrawn``
  is a status of its own now: a pending application becomes ``granted``, ``refused`` or
  ``withdrawn`` (no longer ``relinquished``), and it is final and frees the area, as refused
  does (``emining_application_conflicts`` looks at pending and active records only, so nothing
  there changes). ``emining_withdraw_application`` (0011: the applicant's own pending
  application, checked from the caller's claims) writes ``withdrawn``; an authority may still
  record a withdrawal it received on paper, through a decision. Rows 0011 wrote as
  application → relinquished are corrected to ``withdrawn``, in ``licence_decisions`` and in
  ``concessions`` (whose history keeps the correction, by the store's owner).
- **Decisions in the history.** ``licence_decisions.at`` is the deciding transaction's start,
  ``now()``, which is what migration 0007's triggers write into ``history.at`` for the status
  change the same transaction made; ``geo.history`` pairs them so a feature's history shows why
  each decided step was taken. Rows written before are given the time of the history row of
  their step (the latest update of that licence from their ``from_status`` up to their
  ``decided_at``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_STATUS = ("application", "granted", "renewed", "suspended", "expired", "relinquished",
              "refused")  # fmt: skip
STATUS = (*OLD_STATUS, "withdrawn")
HOLDING = ("renewed", "suspended", "expired", "relinquished")  # after a grant, as in 0009
OLD_NEXT = {
    "application": ("granted", "refused", "relinquished"),
    "granted": HOLDING,
    "renewed": HOLDING,
    "suspended": ("granted", "renewed", "expired", "relinquished"),
}
NEXT = {**OLD_NEXT, "application": ("granted", "refused", "withdrawn")}


def listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def status_check(values: tuple[str, ...]) -> str:
    return (
        "ALTER TABLE concessions DROP CONSTRAINT concessions_status_check, "
        f"ADD CONSTRAINT concessions_status_check CHECK (status IN ({listed(values)}))"
    )


def licence_next(steps: dict[str, tuple[str, ...]]) -> str:
    """Migration 0009's ``emining_licence_next`` with ``steps``."""
    cases = " ".join(f"WHEN '{k}' THEN ARRAY[{listed(v)}]" for k, v in steps.items())
    return f"""CREATE OR REPLACE FUNCTION emining_licence_next(status text) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE status {cases} ELSE ARRAY[]::text[] END $$"""


def withdraw_function(to_status: str) -> str:
    """Migration 0011's ``emining_withdraw_application``, writing ``to_status``."""
    return f"""CREATE OR REPLACE FUNCTION emining_withdraw_application(fid bigint, why text)
        RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
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
            UPDATE concessions SET status = '{to_status}' WHERE id = fid;
            INSERT INTO licence_decisions (concession_id, from_status, to_status, reason)
            VALUES (fid, 'application', '{to_status}', why);
        END $$"""


def renamed(old: str, new: str) -> list[str]:
    """Withdrawals (application → ``old``) restated as application → ``new``."""
    return [
        f"UPDATE concessions c SET status = '{new}' WHERE c.status = '{old}' AND EXISTS "
        "(SELECT 1 FROM licence_decisions d WHERE d.concession_id = c.id "
        f"AND d.from_status = 'application' AND d.to_status = '{old}')",
        f"UPDATE licence_decisions SET to_status = '{new}' "
        f"WHERE from_status = 'application' AND to_status = '{old}'",
    ]


def upgrade() -> None:
    op.execute(status_check(STATUS))
    op.execute(licence_next(NEXT))
    op.execute(withdraw_function("withdrawn"))
    op.execute("ALTER TABLE licence_decisions ADD COLUMN at timestamptz DEFAULT now()")
    op.execute(
        """UPDATE licence_decisions d SET at = (
            SELECT max(h.at) FROM history h WHERE h.layer = 'concessions'
            AND h.fid = d.concession_id AND h.op = 'update' AND h.at <= d.decided_at
            AND h.before->>'status' = d.from_status)"""
    )
    op.execute("CREATE INDEX licence_decisions_at_idx ON licence_decisions (concession_id, at)")
    for statement in renamed("relinquished", "withdrawn"):
        op.execute(statement)


def downgrade() -> None:
    for statement in renamed("withdrawn", "relinquished"):
        op.execute(statement)
    op.execute("UPDATE concessions SET status = 'relinquished' WHERE status = 'withdrawn'")
    op.execute("DROP INDEX licence_decisions_at_idx")
    op.execute("ALTER TABLE licence_decisions DROP COLUMN at")
    op.execute(withdraw_function("relinquished"))
    op.execute(licence_next(OLD_NEXT))
    op.execute(status_check(OLD_STATUS))
