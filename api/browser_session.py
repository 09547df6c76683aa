"""Signing in from a browser: a session cookie that lets the map and HTML pages read as you.

Why a cookie at all: the map's own requests (features, vector tiles, raster tiles) are made by
Leaflet, which cannot add an ``Authorization`` header, so a person signed in to a browser would
otherwise see public records only. Why it only *reads*: a cookie is sent by the browser on any
request to this site, including ones another site makes it send; ``api.auth`` accepts it on
GET, HEAD and OPTIONS only, so it can never write (no cross-site request forgery), and it is
HttpOnly (no script reads it) and SameSite=Strict.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from api.auth import COOKIE, TOKEN_SECONDS, identify, issue_token, session
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


@router.post("/auth/session", summary="Sign in: a session cookie for reading in a browser")
async def sign_in(request: Request) -> Response:
    form = dict(parse_qsl((await request.body()).decode(errors="replace")))
    target = local(form.get("next"))
    async with request.app.state.pool.connection() as conn:
        claims = await access.claims_for_password(
            conn, form.get("username", ""), form.get("password", "")
        )
        if claims is None:
            return RedirectResponse(f"/login?failed=1&next={target}", status_code=303)
        token = await issue_token(request, conn, claims)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, token, max_age=TOKEN_SECONDS, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")  # fmt: skip
    return response


@router.post("/auth/logout", summary="Sign out (forget the session cookie)")
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
