"""schemathesis as the tests run it: bounded, repeatable, and its failures said briefly.

Why a module of its own: the whole document is fuzzed anonymously (``tests/test_clients.py``),
where every write is a 401; the licence application paths are fuzzed again with an applicant's
and an authority's credentials (``tests/test_applications.py``), so their bodies, conflicts and
decisions are reached too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFORMANCE = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance,"
    "negative_data_rejection,unsupported_method"
)
"""Left out: positive_data_acceptance. The filter, datetime, sortby and bbox grammars (CQL2,
RFC 3339 intervals, known property names, lower corner below upper) and valid polygons are not
expressible in JSON Schema, so schema-valid requests may be rightly refused with 400."""


def schemathesis(
    url: str, workdir: Path, checks: str, phases: str, *extra: str
) -> subprocess.CompletedProcess:
    """A bounded, repeatable schemathesis run: 30 cases per operation, fixed seed, no database;
    ``extra``: more options (headers, which paths)."""
    return subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{url}/api",
            "--checks",
            checks,
            "--phases",
            phases,
            "--max-examples",
            "30",
            "--seed",
            "1",
            # One worker: with 4, schemathesis 4 (Python 3.11) now and then fails inside itself
            # ("AST constructor recursion depth mismatch"), a thread-safety bug of the tool.
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--request-timeout",
            "30",
            "--no-color",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,
    )


def failures(done: subprocess.CompletedProcess) -> str:
    """Each distinct failure once (check, reason, one request reproducing it), then the summary."""
    wanted = re.compile(
        r"^(_{3,} .* _{3,}|- ST\d+ .*|\s+(Invalid component: .*|"
        r"\w+ returned \d{3} .*|curl .*))$"
    )
    lines = [line.strip() for line in done.stdout.splitlines() if wanted.match(line)]
    summary = done.stdout[done.stdout.rfind("SUMMARY") :]
    return "\n".join(lines[:150]) + "\n" + summary + done.stderr[-2000:]
