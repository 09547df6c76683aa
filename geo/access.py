"""Who is asking, told to the database: organisations, users, API keys and each request's claims.

Why the database decides: row-level security (migration 0005) filters every statement the API
runs by the claims set here, so a new endpoint cannot forget the rule. ``act_as`` switches the
transaction to the ``emining_api`` role (which the policies bind) and states the claims with
``set_config(..., true)``: both end with the transaction, so a pooled connection never carries
one request's identity into the next.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

API_ROLE = "emining_api"
ORG_KINDS = ("authority", "enterprise", "public")
ROLES = ("viewer", "editor", "approver", "admin")
WRITERS = ("editor", "approver", "admin")
KEY_PREFIX = "em_"

_hasher = PasswordHasher()


class AccessError(ValueError):
    """A user, organisation or key that cannot be created as asked."""


@dataclass(frozen=True)
class Claims:
    """The identity a request acts under; anonymous when ``user_id`` is None."""

    user_id: int | None = None
    org_id: int | None = None
    org_kind: str | None = None
    role: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.user_id is None

    @property
    def audience(self) -> str:
        """What decides which rows are visible (not who asks): caches key shared answers on it.

        Authorities see every record and anonymous callers the public ones, whatever their user;
        anyone else sees what their organisation sees.
        """
        if self.org_kind == "authority":
            return "authority"
        return "public" if self.org_id is None else f"org:{self.org_id}"

    @property
    def can_write(self) -> bool:
        return self.role in WRITERS


ANONYMOUS = Claims()

_ACT_AS = (
    "SELECT set_config('role', %s, true), set_config('emining.org', %s, true), "
    "set_config('emining.org_kind', %s, true), set_config('emining.role', %s, true), "
    "set_config('emining.user', %s, true)"
)


async def act_as(conn: psycopg.AsyncConnection, claims: Claims) -> None:
    """Inside an open transaction: from here on, statements see what ``claims`` may see."""
    await conn.execute(_ACT_AS, _claim_values(claims))


def act_as_sync(conn: psycopg.Connection, claims: Claims) -> None:
    conn.execute(_ACT_AS, _claim_values(claims))


def _claim_values(claims: Claims) -> list[str]:
    def text(value: object) -> str:
        return "" if value is None else str(value)

    return [API_ROLE, text(claims.org_id), text(claims.org_kind), text(claims.role),
            text(claims.user_id)]  # fmt: skip


# ---- organisations and users (the CLI's `emining user`) -------------------------------------


def ensure_organisation(
    conn: psycopg.Connection, name: str, kind: str | None = None, country: str | None = None
) -> int:
    """The organisation's id, creating it when ``kind`` is given; a kind that differs is refused."""
    row = conn.execute("SELECT id, kind FROM organisations WHERE name = %s", [name]).fetchone()
    if row is not None:
        if kind is not None and row[1] != kind:
            raise AccessError(f"organisation {name!r} exists and is an {row[1]}, not {kind}")
        return row[0]
    if kind is None:
        raise AccessError(f"no organisation {name!r}; give its kind to create it ({ORG_KINDS})")
    if kind not in ORG_KINDS:
        raise AccessError(f"organisation kind must be one of {', '.join(ORG_KINDS)}, not {kind!r}")
    return conn.execute(
        "INSERT INTO organisations (name, kind, country) VALUES (%s, %s, %s) RETURNING id",
        [name, kind, country.upper() if country else None],
    ).fetchone()[0]


def add_user(
    conn: psycopg.Connection,
    email: str,
    organisation_id: int,
    role: str,
    password: str | None = None,
    name: str | None = None,
) -> int:
    if role not in ROLES:
        raise AccessError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if password is not None and len(password) < 10:
        raise AccessError("a password needs at least 10 characters")
    try:
        return conn.execute(
            "INSERT INTO users (email, name, organisation_id, role, password_hash) "
            "VALUES (lower(%s), %s, %s, %s, %s) RETURNING id",
            [email, name, organisation_id, role, _hasher.hash(password) if password else None],
        ).fetchone()[0]
    except psycopg.errors.UniqueViolation:
        raise AccessError(f"a user {email!r} exists already") from None
    except psycopg.errors.CheckViolation:
        raise AccessError(f"{email!r} is not an e-mail address") from None


def add_key(conn: psycopg.Connection, email: str, label: str | None = None) -> str:
    """A new API key for the user; the key itself is returned once and never stored."""
    row = conn.execute("SELECT id FROM users WHERE email = lower(%s)", [email]).fetchone()
    if row is None:
        raise AccessError(f"no user {email!r}")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO api_keys (user_id, prefix, key_hash, label) VALUES (%s, %s, %s, %s)",
        [row[0], prefix, _key_hash(secret), label],
    )
    return f"{KEY_PREFIX}{prefix}_{secret}"


def _key_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _user_claims(extra: str, where: str) -> str:
    """The statement reading a user's claims (and ``extra``) for the condition ``where``."""
    return (
        f"SELECT u.id, o.id, o.kind, u.role{extra} FROM users u "
        f"JOIN organisations o ON o.id = u.organisation_id WHERE u.active AND {where}"
    )


_BY_KEY = _user_claims(", k.key_hash", "k.prefix = %s AND k.revoked_at IS NULL").replace(
    "FROM users u", "FROM api_keys k JOIN users u ON u.id = k.user_id"
)
_BY_EMAIL = _user_claims(", u.password_hash, u.token_generation", "u.email = lower(%s)")
_BY_ID = _user_claims(", u.token_generation", "u.id = %s AND u.token_generation = %s")


async def claims_for_key(conn: psycopg.AsyncConnection, key: str) -> Claims | None:
    """The claims of an API key's user, or None for an unknown, revoked or inactive one."""
    prefix, _, secret = key.removeprefix(KEY_PREFIX).partition("_")
    row = await (await conn.execute(_BY_KEY, [prefix])).fetchone()
    if row is None or not hmac.compare_digest(bytes(row[4]), _key_hash(secret)):
        return None
    return Claims(*row[:4])


async def password_row(conn: psycopg.AsyncConnection, email: str) -> tuple | None:
    """The claims and password hash of an active user by e-mail, or None."""
    # No address holds a NUL, and PostgreSQL text refuses one: a DataError, a server error for
    # what is only a wrong e-mail.
    if "\x00" in email:
        return None
    return await (await conn.execute(_BY_EMAIL, [email])).fetchone()


def verify_password(row: tuple | None, password: str) -> Claims | None:
    """The claims of ``row`` (from ``password_row``) if ``password`` is its user's, else None.

    Blocking (argon2: ~50 ms of CPU): callers on an event loop run it in a worker thread
    (api.auth), so that a burst of sign-ins does not stall every other request."""
    if row is None or row[4] is None:
        _hasher.hash(password)  # the same work as a check: no timing tells which users exist
        return None
    try:
        _hasher.verify(row[4], password)
    except (VerifyMismatchError, InvalidHashError):
        return None
    return Claims(*row[:4])


async def claims_for_user(
    conn: psycopg.AsyncConnection, user_id: int, generation: int
) -> Claims | None:
    """Current claims of an active user whose tokens of ``generation`` are still good (a
    token's subject may have been disabled, or signed out, since it was issued)."""
    row = await (await conn.execute(_BY_ID, [user_id, generation])).fetchone()
    return Claims(*row[:4]) if row else None


async def sign_out(conn: psycopg.AsyncConnection, user_id: int) -> None:
    """Every token issued to the user so far stops working (its generation is passed)."""
    await conn.execute(
        "UPDATE users SET token_generation = token_generation + 1 WHERE id = %s", [user_id]
    )


def revoke_keys(conn: psycopg.Connection, email: str, prefix: str | None = None) -> int:
    """Revoke the user's keys (or the one whose prefix is given); how many were revoked."""
    user = conn.execute("SELECT id FROM users WHERE email = lower(%s)", [email]).fetchone()
    if user is None:
        raise AccessError(f"no user {email!r}")
    if prefix is not None:
        prefix = prefix.removeprefix(KEY_PREFIX).partition("_")[0]
    return conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL "
        "AND (%s::text IS NULL OR prefix = %s)",
        [user[0], prefix, prefix],
    ).rowcount


def set_active(conn: psycopg.Connection, email: str, active: bool) -> None:
    """(De)activate a user: an inactive one's keys, tokens and sessions stop working at once
    (every request reads the claims afresh), and their tokens stay void when reactivated."""
    found = conn.execute(
        "UPDATE users SET active = %s, token_generation = token_generation + 1 "
        "WHERE email = lower(%s) RETURNING id",
        [active, email],
    ).fetchone()
    if found is None:
        raise AccessError(f"no user {email!r}")


async def organisation_name(conn: psycopg.AsyncConnection, org_id: int | None) -> str | None:
    """The name of an organisation (None for none: an anonymous caller has no organisation)."""
    if org_id is None:
        return None
    row = await (
        await conn.execute("SELECT name FROM organisations WHERE id = %s", [org_id])
    ).fetchone()
    return row[0] if row else None


def list_users(conn: psycopg.Connection) -> list[tuple[str, str, str, str, bool, int]]:
    """Every user: (email, organisation, its kind, role, active, live API keys), by organisation."""
    return conn.execute(
        "SELECT u.email, o.name, o.kind, u.role, u.active, "
        "(SELECT count(*) FROM api_keys k WHERE k.user_id = u.id AND k.revoked_at IS NULL) "
        "FROM users u JOIN organisations o ON o.id = u.organisation_id "
        "ORDER BY o.name, u.email"
    ).fetchall()


async def token_secret(conn: psycopg.AsyncConnection) -> bytes:
    """The store's signing secret for bearer tokens, made on first use (shared by all workers)."""
    await conn.execute(
        "INSERT INTO secrets (name, value) VALUES ('token', %s) ON CONFLICT DO NOTHING",
        [secrets.token_bytes(32)],
    )
    cursor = await conn.execute("SELECT value FROM secrets WHERE name = 'token'")
    return bytes((await cursor.fetchone())[0])
