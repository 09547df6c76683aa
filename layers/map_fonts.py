"""The shipped web fonts, for a map that must render Urdu and Chinese on any browser, offline.

Why: /map links ``api/static/fonts/fonts.css`` (Noto Sans SC for Latin and Chinese, Noto Naskh
Arabic for Urdu, split by Fontsource into ~100 woff2 chunks by ``unicode-range``), and the
browser fetches only the chunks its text needs. A standalone file has no server, so it carries
the faces as ``data:`` URLs, each chunk that holds a character of the page cut down by fontTools
to exactly those characters (the page's texts in all three languages and its data): tens of
kilobytes instead of the 2.7 MB of all chunks. ``covers`` reads each font's own character map,
so tests can check that every character a page shows is drawn by a shipped face.

Why a cache of subsets: fontTools takes 0.1–0.8 s per chunk (decoding woff2, subsetting,
encoding woff2 with Brotli), and a page in three languages touches most of the ~100 chunks, so
``emining map -o`` spent 30–50 s there. The same chunk cut to the same characters is the same
bytes, so each subset is kept in a folder (``Settings.font_cache``: ``cache/fonts`` under the
home) under the hash of the font file, the characters and the fontTools version; a second build
with the same texts subsets nothing, and one whose data gained a few names subsets only the
chunks those names touch.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import fontTools
from fontTools import subset
from fontTools.ttLib import TTFont

CSS = "fonts/fonts.css"
_FACE = re.compile(r"@font-face\s*\{[^}]*\}")
_URL = re.compile(r"url\(\./(files/[\w.-]+\.woff2)\)")


@dataclass(frozen=True)
class Face:
    css: str
    path: Path

    @property
    def codes(self) -> frozenset[int]:
        return _cmap(self.path)

    def covers(self, code: int) -> bool:
        return code in self.codes


@cache
def _cmap(path: Path) -> frozenset[int]:
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def faces(static: Path) -> list[Face]:
    """Every @font-face of the shipped stylesheet with its font file."""
    css = (static / CSS).read_text(encoding="utf-8")
    found = []
    for block in _FACE.findall(css):
        url = _URL.search(block)
        if url is None:
            raise ValueError(f"{CSS}: an @font-face without a woff2 file: {block[:80]}")
        found.append(Face(block, static / "fonts" / url.group(1)))
    return found


def cache_key(path: Path, codes: set[int]) -> str:
    """Names a subset by what decides its bytes: the font file, the characters, fontTools."""
    digest = hashlib.sha256(path.read_bytes())
    digest.update(f"|{fontTools.version}|".encode())
    digest.update(",".join(map(str, sorted(codes))).encode())
    return f"{path.stem}-{digest.hexdigest()[:32]}.woff2"


def subset_font(path: Path, codes: set[int], cache: Path | None = None) -> bytes:
    """``path`` cut down to ``codes`` as woff2, taken from ``cache`` when it holds it."""
    if cache is None:
        return _subset(path, codes)
    kept = cache / cache_key(path, codes)
    if kept.is_file():
        return kept.read_bytes()
    data = _subset(path, codes)
    cache.mkdir(parents=True, exist_ok=True)
    partial = kept.with_name(f".{kept.name}.{os.getpid()}")
    partial.write_bytes(data)
    partial.replace(kept)  # atomic: two builds at once never read half a file
    return data


def _subset(path: Path, codes: set[int]) -> bytes:
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]  # Urdu's joining forms and ligatures
    with TTFont(path) as font:
        cutter = subset.Subsetter(options)
        cutter.populate(unicodes=codes)
        cutter.subset(font)
        out = io.BytesIO()
        font.flavor = "woff2"
        font.save(out)
    return out.getvalue()


def inline_css(static: Path, text: str, cache: Path | None = None) -> str:
    """The @font-face rules needed to draw ``text``, their fonts subset to it, as data: URLs;
    subsets are kept in and read from ``cache`` when one is given."""
    codes = {ord(c) for c in set(text) if ord(c) > 0x20}
    rules = []
    for face in faces(static):
        needed = codes & face.codes
        if not needed:
            continue
        data = base64.b64encode(subset_font(face.path, needed, cache)).decode()
        rules.append(_URL.sub(f"url(data:font/woff2;base64,{data})", face.css))
    return "\n".join(rules)
