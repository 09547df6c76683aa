"""Cross-origin reads for web maps on other sites (MapLibre, OpenLayers, Leaflet), and nothing
with credentials.

The policy (docs/security.md): public reads (GET and HEAD of collections, features, tiles,
rasters, the landing page, conformance and /api) answer any origin with
``Access-Control-Allow-Origin: *`` and never ``Allow-Credentials``, so a browser sends them
without cookies and shows the page only what anonymous callers get. A preflight is granted
for GET and HEAD with ordinary headers only: one asking to send ``Authorization`` or
``X-API-Key`` (or to POST, PUT, PATCH, DELETE) gets no CORS headers, and the browser stops
there. Sign-in, applications and decisions never carry CORS headers.

Why not Starlette's CORSMiddleware: it applies one policy to every path and method.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC = ("/collections", "/tiles", "/tileMatrixSets", "/conformance", "/rasters", "/api")
METHODS = ("GET", "HEAD")
HEADERS = ("accept", "accept-language", "content-language", "if-none-match",
           "if-modified-since", "range")  # fmt: skip
EXPOSED = "ETag, Link, Content-Crs, OGC-NumberMatched, OGC-NumberReturned, Retry-After"
MAX_AGE = "600"


def public(path: str) -> bool:
    return path == "/" or any(path == p or path.startswith(p + "/") for p in PUBLIC)


class PublicCORS:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not public(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"origin" not in headers:
            await self.app(scope, receive, send)
            return
        asked = headers.get(b"access-control-request-method")
        if scope["method"] == "OPTIONS" and asked is not None:
            await self.preflight(asked.decode("latin-1"), headers, send)
            return
        if scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", b"*"),
                    (b"access-control-expose-headers", EXPOSED.encode()),
                ]
            await send(message)

        await self.app(scope, receive, with_cors)

    async def preflight(self, method: str, headers: dict[bytes, bytes], send: Send) -> None:
        wanted = headers.get(b"access-control-request-headers", b"").decode("latin-1")
        names = {h.strip().lower() for h in wanted.split(",") if h.strip()}
        granted = method.upper() in METHODS and names <= set(HEADERS)
        vary = b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        reply = [(b"vary", vary), (b"content-length", b"0")]
        if granted:
            reply += [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-allow-methods", ", ".join(METHODS).encode()),
                (b"access-control-allow-headers", ", ".join(HEADERS).encode()),
                (b"access-control-max-age", MAX_AGE.encode()),
            ]
        await send({"type": "http.response.start", "status": 204, "headers": reply})
        await send({"type": "http.response.body", "body": b""})
