"""The system's Chromium as the tests and bench/map.py launch it (Playwright, no download).

Why these flags: Debian's /usr/bin/chromium runs as root here (so no sandbox), has no GPU, and
must not reach the network on its own (updates, sync, first-run pages) while a test or a bench
times it. Never ``playwright install``: it downloads a browser and fails on these machines.
"""

from __future__ import annotations

from playwright.sync_api import Browser, Playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=list(ARGS), headless=True)
