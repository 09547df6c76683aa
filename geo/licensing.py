"""Licence applications: is a block free, applying for it, and an authority's decisions.

Why so little here: the rules (the priority stamp, what conflicts, who decides, which steps are
allowed) are the database's (migration 0009), so every path obeys them. This module reads the
applicant's GeoJSON with the loader's checks (``geo.edit.checked_rows``, which runs
``geo.validate.check``), asks the database for conflicts, and writes through ``geo.edit``.

What an applicant may say: the block (a Polygon or MultiPolygon) and ``APPLICANT_FIELDS``. The
number, status, dates, stamp, owner and source are the platform's; sending one is refused by
name, as is any unknown field, wrong vocabulary value or bad geometry, all at once. An
application is ``confidential`` unless the applicant says otherwise: its owner and the
authorities see it.

Conflicts name a record only to a caller who may see it. Of all the others together the answer
says only that the block "conflicts with an earlier application or licence not visible to you"
(``HIDDEN``): an applicant learns that the area is taken, never by what, whom, when, or by how
much (docs/security.md).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import psycopg
from sqlalchemy import ARRAY, BigInteger

from geo import edit
from geo.access import Claims
from geo.crs import CRS
from geo.edit import Invalid, NotFound, Written
from geo.models import LAYERS
from geo.vocab import LICENCE_STATUS

TABLE = LAYERS["concessions"].__table__
APPLICANT_FIELDS = ("licence_type", "commodities", "holder", "holder_country", "province",
                    "authority", "notes", "visibility", "shared_with")  # fmt: skip
PLATFORM_FIELDS = tuple(c.name for c in TABLE.columns if c.name not in (*APPLICANT_FIELDS, "geom"))
SOURCE = "licence application through the E-Mining Platform"
PENDING_NUMBER = "APP-pending"
"""Stands in for the number while the feature is checked; the database numbers applications."""
APPLICANT_KINDS = ("enterprise", "public")
DECIDERS = ("approver", "admin")
DECISION_FIELDS = ("status", "licence_no", "granted_on", "expires_on", "reason")
REASON_MAX = 4_000  # characters: a paragraph or two, not a file
BLOCK_VERTICES = 2_000
BLOCK_PARTS = 50
"""A licence block is a few graticule cells or a surveyed outline: these are far above any
real one, and keep the conflict check a few milliseconds of PostGIS."""
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_CONFLICTS = (
    "SELECT ST_Area(b.g::geography) / 1e6, c.visible, c.kind, c.licence_no, c.status, "
    "c.applied_at, c.overlap_km2 FROM (SELECT %s::geometry AS g) b "
    "LEFT JOIN LATERAL emining_application_conflicts(b.g) c ON true"
)
_APPLIED = (
    "SELECT id, licence_no, status, applied_at, applied_on, area_km2 FROM concessions WHERE id = %s"
)
_DECIDED = (
    "INSERT INTO licence_decisions (concession_id, from_status, to_status, reason) "
    "VALUES (%s, %s, %s, %s) RETURNING reason, decided_at"
)
_WITHDRAWN = (
    "SELECT c.id, c.licence_no, c.status, c.applied_at, d.reason, d.decided_at "
    "FROM concessions c JOIN LATERAL (SELECT reason, decided_at FROM licence_decisions "
    "WHERE concession_id = c.id ORDER BY id DESC LIMIT 1) d ON true WHERE c.id = %s"
)
_DECISIONS = (
    "SELECT d.from_status, d.to_status, d.reason, d.decided_at, o.name AS by_organisation, "
    "d.by_role FROM licence_decisions d LEFT JOIN organisations o ON o.id = d.by_org "
    "WHERE d.concession_id = %s ORDER BY d.id"
)
_CURRENT = "SELECT status, licence_no, emining_licence_next(status) FROM concessions WHERE id = %s"
_DECIDE = (
    "UPDATE concessions SET status = %(status)s, licence_no = coalesce(%(licence_no)s, "
    "licence_no), granted_on = coalesce(%(granted_on)s, granted_on), "
    "expires_on = coalesce(%(expires_on)s, expires_on) WHERE id = %(id)s "
    "RETURNING id, licence_no, status, applied_at, granted_on, expires_on"
)


class LicensingError(Exception):
    """A licensing rule refuses the step: the block overlaps others, or the licence's status may
    not become the one asked for. ``extra`` says more than the message (the conflicts, the
    allowed steps), for the answer to carry beside it."""

    def __init__(self, message: str, extra: dict):
        super().__init__(message)
        self.extra = extra


@dataclass(frozen=True)
class Conflict:
    visible: bool
    kind: str  # "licence" or "application"
    licence_no: str | None
    status: str | None
    applied_at: dt.datetime | None
    overlap_km2: float

    def describe(self) -> str:
        km2 = f"{self.overlap_km2:.3f} km²"
        if not self.visible:
            return HIDDEN
        if self.kind == "application":
            return f"application {self.licence_no} of {self.applied_at:%Y-%m-%dT%H:%M:%S%z} " \
                   f"overlaps it by {km2}"  # fmt: skip
        return f"licence {self.licence_no} ({self.status}) overlaps it by {km2}"

    def document(self) -> dict:
        if not self.visible:
            return {"visible": False, "description": HIDDEN}
        return {
            "licence_no": self.licence_no,
            "kind": self.kind,
            "status": self.status,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "overlap_km2": self.overlap_km2,
            "visible": self.visible,
        }


HIDDEN = "it conflicts with an earlier application or licence not visible to you"
"""All that a caller who may not see a conflicting record learns of it, however many there
are: not its kind, number, date, status or overlap (the overlap's area let one caller trace a
hidden block's bounds to 1e-5° by bisection). That the area is taken is the answer
the check exists to give; how fast anyone can ask is bounded per caller (api.limits)."""


@dataclass(frozen=True)
class Block:
    """A checked application: the feature as the store will take it and its block (hex EWKB,
    EPSG:4326) for the conflict check."""

    feature: dict
    geometry: str
    crs: CRS


@dataclass(frozen=True)
class Decision:
    status: str
    reason: str
    """Why, in the decider's words: kept with the decision and shown to whoever sees the
    licence (migration 0011), so a refused applicant reads why."""
    licence_no: str | None = None
    granted_on: dt.date | None = None
    expires_on: dt.date | None = None


def may_apply(claims: Claims) -> bool:
    """Enterprises and public bodies apply; authorities decide and do not apply."""
    return claims.can_write and claims.org_kind in APPLICANT_KINDS


def may_decide(claims: Claims) -> bool:
    """As ``emining_may_decide()`` in the database, to refuse before any work."""
    return claims.org_kind == "authority" and claims.role in DECIDERS


def block_of(body: object, crs: CRS) -> Block:
    """The application in ``body`` (one GeoJSON Feature), checked; ``Invalid`` names every
    problem: fields that are the platform's, and whatever the loader's checks find."""
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise Invalid('an application is one GeoJSON Feature ("type": "Feature")')
    feature = body
    given = feature.get("properties")
    if given is not None and not isinstance(given, dict):
        raise Invalid("body: properties: must be an object")
    given = given or {}
    problems = [f"body: {name}: set by the platform, not by the applicant"
                for name in given if name in PLATFORM_FIELDS]  # fmt: skip
    for name in given:
        if name in APPLICANT_FIELDS and (wrong := json_type_problem(name, given[name])):
            problems.append(f"body: {name}: {wrong}")
    properties = {k: v for k, v in given.items() if k not in PLATFORM_FIELDS}
    properties.setdefault("visibility", "confidential")
    properties |= {"licence_no": PENDING_NUMBER, "status": "application", "source": SOURCE}
    complete = {**feature, "properties": properties} if isinstance(feature, dict) else feature
    try:
        frame, _ = edit.checked_rows("concessions", [complete], crs, BLOCK_VERTICES, BLOCK_PARTS)
    except Invalid as error:  # too large a block is refused as such, before the rest
        problems.append(str(error))
    if problems:
        raise Invalid("; ".join(problems))
    return Block(complete, frame["geom"].iloc[0], crs)


def json_type_problem(name: str, value: object) -> str | None:
    """What is wrong with the JSON type of an applicant's field, or None.

    Why here and not only in the loader's checks: those read files, where every value is text
    and ``"copper;gold"`` is a list, so they coerce; an API client's ``{"holder": 5}`` or
    ``{"commodities": "copper"}`` is a mistake to name, not to store as ``"5"``. ``/api`` says
    the same types (``api.applications_openapi``)."""
    column = TABLE.columns[name]
    if value is None:
        return None if column.nullable else "must not be null"
    if isinstance(column.type, ARRAY):
        item = int if isinstance(column.type.item_type, BigInteger) else str
        if not isinstance(value, list) or not all(
            isinstance(v, item) and not isinstance(v, bool) for v in value
        ):
            return f"must be an array of {'integers' if item is int else 'text'}"
        return None
    return None if isinstance(value, str) else "must be text"


async def conflicts(conn: psycopg.AsyncConnection, block: Block) -> tuple[float, list[Conflict]]:
    """The block's area (km², spheroid) and what it conflicts with, as the caller may know it."""
    cursor = await conn.execute(_CONFLICTS, [block.geometry])
    rows = await cursor.fetchall()
    found = [Conflict(*row[1:]) for row in rows if row[1] is not None]
    hidden = [c for c in found if not c.visible]
    return rows[0][0], [c for c in found if c.visible] + hidden[:1]


def conflicting(found: list[Conflict]) -> LicensingError:
    listed = "; ".join(c.describe() for c in found)
    return LicensingError(
        f"the area is not free: {listed}",
        {"conflicts": [c.document() for c in found]},
    )


async def time_limit(conn: psycopg.AsyncConnection, milliseconds: int) -> None:
    """Inside an open transaction: its statements may run ``milliseconds`` each (a check of the
    largest block allowed takes tens of milliseconds; one that needs seconds is abuse)."""
    await conn.execute("SELECT set_config('statement_timeout', %s, true)", [str(milliseconds)])


async def check(conn: psycopg.AsyncConnection, block: Block) -> float:
    """The block's area when it is free; a LicensingError listing the conflicts otherwise."""
    area, found = await conflicts(conn, block)
    if found:
        raise conflicting(found)
    return area


async def apply(conn: psycopg.AsyncConnection, block: Block, claims: Claims) -> tuple[dict, str]:
    """The new application (stamped and numbered by the database) and its ETag.

    The applications lock is held from the check to the end of the transaction, so an
    overlapping application sent meanwhile waits and then sees this one (migration 0009); the
    database's trigger checks once more under the same lock, for writes by other paths."""
    await conn.execute("SELECT emining_lock_applications()")
    await check(conn, block)
    written: Written = (await edit.insert(conn, "concessions", [block.feature], block.crs,
                                          claims))[0]  # fmt: skip
    cursor = await conn.execute(_APPLIED, [written.id])
    return _row(cursor.description, await cursor.fetchone()), written.etag


def decision_of(body: object) -> Decision:
    """The approver's decision: ``{"status": …}`` and optionally the licence number, grant and
    expiry dates; ``Invalid`` names every problem."""
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object with the new status")
    problems = [f"{name}: unknown field; a decision has {', '.join(DECISION_FIELDS)}"
                for name in body if name not in DECISION_FIELDS]  # fmt: skip
    status = body.get("status")
    if status not in LICENCE_STATUS:
        problems.append(f"status: {status!r} is not one of {', '.join(LICENCE_STATUS)}")
    number = body.get("licence_no")
    if number is not None and (not isinstance(number, str) or not number.strip()):
        problems.append("licence_no: must be non-empty text")
    dates = {}
    for name in ("granted_on", "expires_on"):
        value = body.get(name)
        try:  # fromisoformat alone takes 20260101 and 2026-W01-1 too: /api says YYYY-MM-DD
            if value is not None and not DATE.fullmatch(value):
                raise ValueError(value)
            dates[name] = None if value is None else dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            problems.append(f"{name}: {value!r} is not a date (YYYY-MM-DD)")
    reason = body.get("reason")
    problems += reason_problems(reason)
    if problems:
        raise Invalid("; ".join(problems))
    number = number.strip() if number else None
    return Decision(status, reason.strip(), number, **dates)


def reason_problems(reason: object) -> list[str]:
    if not isinstance(reason, str) or not reason.strip():
        return ["reason: required: say why, in words (it is kept with the decision)"]
    if len(reason) > REASON_MAX:
        return [f"reason: at most {REASON_MAX:,} characters"]
    return []


def withdrawal_of(body: object) -> str:
    """The applicant's reason for withdrawing (``{"reason": …}``); ``Invalid`` otherwise."""
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object with the reason")
    problems = [f"{name}: unknown field; a withdrawal has only a reason"
                for name in body if name != "reason"]  # fmt: skip
    problems += reason_problems(body.get("reason"))
    if problems:
        raise Invalid("; ".join(problems))
    return body["reason"].strip()


async def decide(conn: psycopg.AsyncConnection, fid: int, decision: Decision) -> dict:
    """The record after the decision; ``NotFound`` if unknown, a ``LicensingError`` naming the
    allowed steps if this one is not (the trigger of migration 0009 holds the same rule),
    ``Invalid`` for dates it refuses."""
    cursor = await conn.execute(_CURRENT + " FOR UPDATE", [fid])
    current = await cursor.fetchone()
    if current is None:
        raise NotFound(f"no licence or application {fid}")
    status, number, allowed = current
    if decision.status not in allowed:
        steps = ", ".join(allowed) or "nothing else (final)"
        raise LicensingError(
            f"{number} is {status}: it may become {steps}, not {decision.status}",
            {"current": status, "allowed": allowed},
        )
    values = {"id": fid, "status": decision.status, "licence_no": decision.licence_no,
              "granted_on": decision.granted_on, "expires_on": decision.expires_on}  # fmt: skip
    with edit.database_errors():
        cursor = await conn.execute(_DECIDE, values)
        record = _row(cursor.description, await cursor.fetchone())
        cursor = await conn.execute(_DECIDED, [fid, status, decision.status, decision.reason])
    return {**record, **_row(cursor.description, await cursor.fetchone())}


async def withdraw(conn: psycopg.AsyncConnection, fid: int, reason: str) -> dict:
    """The application after its own organisation withdrew it: ``NotFound`` if the caller
    cannot see it, ``NotAllowed`` unless theirs to write, a ``LicensingError`` unless pending
    (``emining_withdraw_application``)."""
    try:
        with edit.database_errors():
            await conn.execute("SELECT emining_withdraw_application(%s, %s)", [fid, reason])
    except psycopg.errors.NoDataFound:
        raise NotFound(f"no licence or application {fid}") from None
    except psycopg.errors.ObjectNotInPrerequisiteState as error:
        raise LicensingError(error.diag.message_primary, {"allowed": []}) from None
    cursor = await conn.execute(_WITHDRAWN, [fid])
    return _row(cursor.description, await cursor.fetchone())


async def decisions(conn: psycopg.AsyncConnection, fid: int) -> list[dict]:
    """Every decided step of a licence, oldest first; ``NotFound`` if the caller cannot see it."""
    cursor = await conn.execute("SELECT licence_no FROM concessions WHERE id = %s", [fid])
    if await cursor.fetchone() is None:
        raise NotFound(f"no licence or application {fid}")
    cursor = await conn.execute(_DECISIONS, [fid])
    return [_row(cursor.description, row) for row in await cursor.fetchall()]


def _row(description, row) -> dict:
    return {
        column.name: value.isoformat() if isinstance(value, dt.date) else value
        for column, value in zip(description, row, strict=True)
    }
