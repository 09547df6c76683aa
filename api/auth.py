"""Who is calling, and a connection that acts as them.

Machines send an API key (``X-API-Key: em_…`` or ``Authorization: Bearer em_…``); people trade
their e-mail and password for a signed bearer token at ``POST /auth/token`` (the OAuth2 password
grant, so QGIS's and OWSLib's OAuth2 and header settings work unchanged). No credentials is
anonymous: public records only. Wrong credentials are a 401, never a silent fall back to
anonymous, so a client with an expired token notices.

Every read and write goes through ``session``: it identifies the caller on the connection it
hands out and switches that connection's transaction to the caller's claims, so row-level
security (migration 0005) filters whatever the endpoint then runs. Reads (GET, HEAD) take it from
the read pool (``Settings.database_read_url``: the synchronous replicas, docs/ha.md), anything
else from the primary's; the few writes a read may need (a stale derived layer, the first token
secret) are sent to the primary.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl

import jwt
from fastapi import APIRouter, HTTPException, Request
from psycopg import AsyncConnection
from psycopg.errors import ReadOnlySqlTransaction
from psycopg_pool import AsyncConnectionPool
from starlette.responses import Response

from api import limits
from api.ogc.respond import send
from api.responses import JSONResponse
from geo import access
from geo.access import ANONYMOUS, Claims

TOKEN_SECONDS = 3600
COOKIE = "emining_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")  # the only ones a session cookie may act for
ALGORITHM = "HS256"
ISSUER = "emining"
router = APIRouter(tags=["Accounts"])


def unauthorised(description: str) -> HTTPException:
    return HTTPException(
        401,
        description,
        headers={"WWW-Authenticate": 'Bearer realm="emining", error="invalid_token"'},
    )


def credentials(request: Request) -> tuple[str, str] | None:
    """("key", …) or ("token", …) from the request's headers (or, for reads only, the browser
    session cookie of ``api.browser_session``), or None when it carries none."""
    key = request.headers.get("x-api-key")
    if key:
        return "key", key.strip()
    header = request.headers.get("authorization")
    if not header:
        cookie = request.cookies.get(COOKIE)
        return ("cookie", cookie) if cookie and request.method in SAFE_METHODS else None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthorised("Authorization must be 'Bearer <token or API key>'")
    value = value.strip()
    return ("key", value) if value.startswith(access.KEY_PREFIX) else ("token", value)


def pool_for(request: Request) -> AsyncConnectionPool:
    """The read pool for reads (the primary's when no read URL is set), else the primary's."""
    state = request.app.state
    if request.method in SAFE_METHODS:
        return getattr(state, "read_pool", state.pool)
    return state.pool


async def signing_secret(request: Request, conn: AsyncConnection) -> bytes:
    state = request.app.state
    if getattr(state, "token_secret", None) is None:
        try:
            state.token_secret = await access.token_secret(conn)
        except ReadOnlySqlTransaction:  # a replica, and no secret made yet: the primary makes it
            async with state.pool.connection() as primary:
                state.token_secret = await access.token_secret(primary)
    return state.token_secret


async def identify(request: Request, conn: AsyncConnection) -> Claims:
    """The caller's claims (read once per request and kept on ``request.state``)."""
    known = getattr(request.state, "claims", None)
    if known is not None:
        return known
    given = credentials(request)
    claims = ANONYMOUS
    if given is not None:
        kind, value = given
        if kind == "key":
            found = await access.claims_for_key(conn, value)
            if found is None:
                raise unauthorised("unknown or revoked API key")
            claims = found
        else:
            try:
                claims = await claims_for_token(request, conn, value)
            except HTTPException:
                if kind == "token":
                    raise
                # An expired browser session reads as anonymous (and /login says so): the
                # cookie is the browser's, not a credential the caller chose to send.
    request.state.claims = claims
    return claims


async def claims_for_token(request: Request, conn: AsyncConnection, token: str) -> Claims:
    secret = await signing_secret(request, conn)
    try:
        payload = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
            options={"require": ["exp", "sub"]},
        )  # fmt: skip
    except jwt.ExpiredSignatureError:
        raise unauthorised("the bearer token has expired; ask /auth/token for a new one") from None
    except jwt.InvalidTokenError:
        raise unauthorised("the bearer token is not valid") from None
    subject, generation = payload.get("sub"), payload.get("gen", 0)
    # Only this server signs tokens, but a leaked secret or an old format must still be a 401.
    if not (isinstance(subject, str) and subject.isascii() and subject.isdigit()
            and len(subject) < 19 and type(generation) is int):  # fmt: skip
        raise unauthorised("the bearer token is not valid")
    claims = await access.claims_for_user(conn, int(subject), generation)
    if claims is None:
        raise unauthorised("the token's user is no longer active or has signed out")
    return claims


def token_user(request: Request, token: str) -> int | None:
    """The user a token (valid, unexpired) names, for signing out; None otherwise."""
    secret = getattr(request.app.state, "token_secret", None)
    if secret is None:
        return None
    try:
        subject = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER)["sub"]
    except (jwt.InvalidTokenError, KeyError):
        return None
    return int(subject) if isinstance(subject, str) and subject.isdigit() else None


async def note_staleness(request: Request, conn: AsyncConnection, layers: Iterable) -> None:
    """Whether a derived layer read here lags behind its sources, for the ``Links-Stale`` header.

    Never a rebuild: that can take minutes and belongs to the background job (api/network_job.py)
    and the CLI; the reader gets the last complete links, and is told."""
    for layer in layers:
        if getattr(layer, "stale", None) is not None:
            request.state.derived_stale = await layer.stale(conn)


@asynccontextmanager
async def session(
    request: Request, refreshing: Iterable = (), timeout: float | None = None
) -> AsyncIterator[AsyncConnection]:
    """A pooled connection inside a transaction that acts as the caller (see geo.access)."""
    async with pool_for(request).connection(timeout=timeout) as conn:
        await note_staleness(request, conn, refreshing)
        claims = await identify(request, conn)
        async with conn.transaction():
            await access.act_as(conn, claims)
            yield conn


async def issue_token(
    request: Request, conn: AsyncConnection, claims: Claims, generation: int
) -> str:
    """A signed bearer token (JWT) naming the user and their token generation: claims are
    read afresh on every use, and signing out (or deactivation) moves the generation on, so
    every token issued before stops working at once."""
    now = int(time.time())
    payload = {"sub": str(claims.user_id), "gen": generation, "iss": ISSUER, "iat": now,
               "exp": now + TOKEN_SECONDS}  # fmt: skip
    return jwt.encode(payload, await signing_secret(request, conn), algorithm=ALGORITHM)


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def sign_in(request: Request, email: str, password: str) -> tuple[Claims, str] | None:
    """The claims and a new token for a right e-mail and password, None for a wrong one.

    Failed attempts are counted per account and per client address (api.limits.Logins): over
    the limit the answer is a 429 before any hash is computed. The argon2 check runs in the
    worker's hashing thread (api.limits.Hashing: its own, below the readers' CPU priority),
    ``password_checks`` at once; ``password_queue`` more wait their turn, then a 503."""
    state = request.app.state
    settings = state.settings
    logins = getattr(state, "logins", None)
    if logins is None:
        logins = state.logins = limits.Logins()
    account, where = email.strip().lower(), address(request)
    wait = logins.wait(account, where)
    if wait > 0:
        raise limits.LimitError(429, "too many failed sign-ins for this account or address; "
                                "try again later", retry_after=wait)  # fmt: skip
    async with state.pool.connection() as conn:
        row = await access.password_row(conn, email)
    turns = limits.per_loop(
        state, "password_turns",
        lambda: limits.Turns(settings.password_checks, settings.password_queue,
                             settings.turn_wait, "sign-ins"),
    )  # fmt: skip
    async with turns.turn():  # no connection is held while a sign-in waits for the hasher
        claims = await state.hashing.run(access.verify_password, row, password)
    if claims is None:
        logins.failed(account, where)
        return None
    logins.succeeded(account)
    async with state.pool.connection() as conn:
        return claims, await issue_token(request, conn, claims, row[5])


async def form_of(request: Request) -> dict[str, str]:
    """A small urlencoded form (sign-in), read with a size limit (413 above it)."""
    raw = await limits.read_body(request, limits.AUTH_BODY_MAX)
    return dict(parse_qsl(raw.decode(errors="replace")))


@router.post("/auth/token", summary="A bearer token for a user (OAuth2 password grant)")
async def token(request: Request) -> Response:
    form = await form_of(request)
    if form.get("grant_type", "password") != "password":
        return oauth_error("unsupported_grant_type", "only grant_type=password is supported")
    if not form.get("username") or not form.get("password"):
        return oauth_error("invalid_request", "username (e-mail) and password are required")
    signed_in = await sign_in(request, form["username"], form["password"])
    if signed_in is None:
        return oauth_error("invalid_grant", "wrong e-mail or password", status=401)
    body = {"access_token": signed_in[1], "token_type": "bearer", "expires_in": TOKEN_SECONDS}
    return send(request, body, headers={"Cache-Control": "no-store"})


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    """RFC 6749's error fields beside OGC's, so either kind of client reads the reason."""
    body = {"code": error, "description": description, "error": error,
            "error_description": description}  # fmt: skip
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/auth/me", summary="Who the request acts as")
async def me(request: Request) -> Response:
    async with session(request) as conn:
        claims = await identify(request, conn)
        organisation = await access.organisation_name(conn, claims.org_id)
    document = {
        "anonymous": claims.anonymous,
        "user": claims.user_id,
        "organisation": organisation,
        "organisationKind": claims.org_kind,
        "role": claims.role,
    }
    return send(request, document, headers={"Cache-Control": "private, no-cache"})
