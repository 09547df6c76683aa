"""Signing in from a browser: a session cookie that lets the map and HTML pages read as you.

Why a cookie at all: the map's own requests (features, vector tiles, raster tiles) are made by
Leaflet, which cannot add an ``Authorization`` header, so a person signed in to a browser would
otherwise see public records only. Why it only *reads*: a cookie is sent by the browser on any
request to this site, including ones another site makes it send; ``api.auth`` accepts it on
GET, HEAD and OPTIONS only, so it can never write (no cross-site request forgery), and it is
HttpOnly (no script reads it) and SameSite=Strict.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from api import errors
from api.auth import (
    COOKIE,
    TOKEN_SECONDS,
    form_of,
    identify,
    session,
    sign_in,
    signing_secret,
    token_user,
)
from api.ogc import html
from api.ogc.respond import HTML, send, url
from geo import access

router = APIRouter(tags=["Accounts"], include_in_schema=False)


def local(path: str | None) -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/map"
    return path


@router.get("/login", summary="Sign in (browsers)")
async def login_page(request: Request) -> Response:
    async with session(request) as conn:
        claims = await identify(request, conn)
        who = None if claims.anonymous else await access.organisation_name(conn, claims.org_id)
    document = {
        "title": "Sign in",
        "action": url(request, "/auth/session"),
        "logout": url(request, "/auth/logout"),
        "next": local(request.query_params.get("next")),
        "failed": request.query_params.get("failed") == "1",
        "signed_in": None if claims.anonymous else f"user {claims.user_id}",
        "organisation": who,
        "role": claims.role,
    }
    return send(request, html.render(request, "login", document), HTML,
                {"Cache-Control": "private, no-store"})  # fmt: skip


def same_site(request: Request) -> bool:
    """Whether a form post comes from this site's own pages (or no browser at all).

    Login CSRF: another site could post its own e-mail and password here and sign the victim's
    browser in as that account (what they then upload or apply for lands there). Browsers say
    where a request comes from: ``Sec-Fetch-Site`` (all current ones) and ``Origin`` (on every
    POST); either naming another site is refused. Clients that send neither (curl, scripts)
    are no browser and carry no cookie of a victim."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    return origin.lower() == own.lower()


def cross_site() -> Response:
    return errors.exception(403, "sign in from this site's own /login page (the request came "
                            "from another site)", code="Forbidden")  # fmt: skip


@router.post("/auth/session", summary="Sign in: a session cookie for reading in a browser")
async def sign_in_browser(request: Request) -> Response:
    if not same_site(request):
        return cross_site()
    form = await form_of(request)
    target = local(form.get("next"))
    signed_in = await sign_in(request, form.get("username", ""), form.get("password", ""))
    if signed_in is None:
        return RedirectResponse(f"/login?failed=1&next={quote(target)}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, signed_in[1], max_age=TOKEN_SECONDS, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https",
                        path="/")  # fmt: skip
    return response


@router.post("/auth/logout", summary="Sign out: the session cookie or bearer token stops working")
async def sign_out(request: Request) -> Response:
    """Forgets the cookie and moves the user's token generation on, so the token (the cookie's
    or an ``Authorization: Bearer`` one) and every other token of that user stop working."""
    if not same_site(request):
        return cross_site()
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = given or request.cookies.get(COOKIE)
    if token:
        async with request.app.state.pool.connection() as conn:
            await signing_secret(request, conn)
            user = token_user(request, token)
            if user is not None:
                await access.sign_out(conn, user)
    if given:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
