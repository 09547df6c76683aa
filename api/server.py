"""The HTTP server's own limits: how long a client may take to send its headers, how big they
may be, and how many connections one address may hold.

Why: uvicorn times out idle keep-alive connections, but a connection that trickles its request
line and headers a byte at a time is never timed out, so ~20,000 of them used up the process's
file descriptors. The reverse proxy (deploy/nginx.conf) has its own header and body
timeouts, but ``emining serve`` must be safe without one. The request body's own deadline is
``api.limits.BODY_SECONDS``, where the app reads it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_SECONDS = 10.0  # from a request's first byte (or the connection) to its last header
HEADER_BYTES = 64 * 2**10  # request line and headers together
CONNECTIONS_PER_ADDRESS = 256
KEEP_ALIVE_SECONDS = 5
CONNECTIONS = 4096  # in all; above it uvicorn answers 503 (limit_concurrency)
LINGER_BYTES = 2**20  # of a body still arriving after its answer: read and dropped, then closed


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline, a header size limit and a cap on
    connections per client address (a 408, a 431 or a closed connection)."""

    peers: Counter[str] = Counter()  # open connections per address, in this process

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._peer = self.client[0] if self.client else ""
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._awaiting_headers = True
        self._lingering: int | None = None
        self._body_left: int | None = None  # of a body whose length was announced
        if GuardedHttpTools.peers[self._peer] >= CONNECTIONS_PER_ADDRESS:
            self._peer = None
            transport.abort()
            return
        GuardedHttpTools.peers[self._peer] += 1
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        peer = getattr(self, "_peer", None)
        if peer is not None:
            GuardedHttpTools.peers[peer] -= 1
            if GuardedHttpTools.peers[peer] <= 0:
                del GuardedHttpTools.peers[peer]
            self._peer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering is not None:
            self._lingering -= len(data)
            if self._lingering < 0:
                self.transport.close()
                return
        super().data_received(data)
        # Counted once parsed: a chunk that completes the headers may carry body bytes too.
        if self._awaiting_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > HEADER_BYTES:
                self._refuse(b"431 Request Header Fields Too Large")
                return
            self._arm()

    def on_message_begin(self) -> None:
        self._awaiting_headers = True
        self._arm()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._header_bytes = 0
        self._disarm()
        length = dict(self.headers).get(b"content-length", b"")
        self._body_left = int(length) if length.isdigit() else None
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._body_left is not None:
            self._body_left -= len(body)
        super().on_body(body)

    def on_response_complete(self) -> None:
        """An answer sent before its request's body had arrived (a 413, 429 or 503 refused it
        unread): uvicorn reads the rest and drops it, to keep the connection; past LINGER_BYTES
        more the connection is closed instead. A 64 MiB body sent over and over kept the event
        loop reading what nobody wanted (bench/abuse.py), while a small body that was still on
        its way costs nothing and its connection stays open for the client's next request. A
        body whose Content-Length says more than LINGER_BYTES are still to come is not waited
        for: the connection is closed at once (13 MB applications sent over and over had the
        server read a MiB of each first)."""
        unread = self.cycle is not None and self.cycle.more_body
        super().on_response_complete()
        if unread and not self.transport.is_closing():
            left = self._body_left
            if left is not None and left > LINGER_BYTES:  # announced: it would be cut anyway
                self.transport.close()
            else:
                self._lingering = LINGER_BYTES

    def on_message_complete(self) -> None:
        self._lingering = None  # the unread body has arrived whole: the connection goes on
        super().on_message_complete()

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(HEADER_SECONDS, self._too_slow)

    def _disarm(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if self._awaiting_headers and not self.transport.is_closing():
            self._refuse(b"408 Request Timeout")

    def _refuse(self, status: bytes) -> None:
        self._disarm()
        self._awaiting_headers = False
        if not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 " + status + b"\r\nconnection: close\r\n"
                                 b"content-length: 0\r\n\r\n")  # fmt: skip
            self.transport.close()


OPTIONS = {
    "http": GuardedHttpTools,
    "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    "limit_concurrency": CONNECTIONS,
}
"""uvicorn's settings for the platform (``uvicorn.run(..., **OPTIONS)``)."""


def config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """A uvicorn Config with the guarded protocol and short idle timeouts."""
    return uvicorn.Config(app, host=host, port=port, **OPTIONS, **options)
