"""The reverse proxy : deploy/nginx.conf is valid for Debian's nginx, its
limits agree with the app's own, and docker-compose.yml runs it in front of the API.

``nginx -t`` with a throwaway prefix checks the file as nginx reads it (directives, contexts,
zones); the figures are compared with the constants the app enforces, so the outer net never
refuses what the app would accept or lets through far more than it would.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from api import limits, server
from api.ogc.transactions import MAX_BODY
from tests.conftest import REPO
from tests.test_compose import compose, service

CONF = REPO / "deploy" / "nginx.conf"
UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}


def directive(name: str, where: str | None = None) -> str:
    """The value of ``name`` (in the location block whose head contains ``where``)."""
    text = CONF.read_text()
    if where is not None:
        head = text.index(where)
        text = text[head : text.index("}", head)]
    values = re.findall(rf"^\s*{name}\s+([^;]+);", text, re.MULTILINE)
    assert values, f"no {name} in {CONF} ({where or 'anywhere'})"
    return values[0].strip()


def size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.lower()).groups()
    return int(number) * UNITS[unit]


def seconds(value: str) -> float:
    return float(re.fullmatch(r"(\d+)s?", value).group(1))


def test_nginx_accepts_the_configuration(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not shutil.which(nginx):
        pytest.fail("nginx is not installed: scripts/install-system-deps.sh test installs it")
    (tmp_path / "logs").mkdir()
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(CONF)],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_timeouts_and_sizes_agree_with_the_app():
    assert seconds(directive("client_header_timeout")) <= server.HEADER_SECONDS
    assert seconds(directive("client_body_timeout")) <= limits.BODY_SECONDS
    assert seconds(directive("keepalive_timeout")) > 0
    assert size(directive("client_max_body_size")) == MAX_BODY
    assert size(directive("client_max_body_size", "/auth/")) == limits.AUTH_BODY_MAX
    assert size(directive("client_max_body_size", "/applications")) == limits.BLOCK_BYTES
    buffers = directive("large_client_header_buffers").split()
    assert int(buffers[0]) * size(buffers[1]) <= server.HEADER_BYTES
    for where in ("location / ", "/auth/", "/applications"):
        assert directive("limit_req", where).startswith("zone=")
    assert directive("limit_req_status") == "429" == directive("limit_conn_status")
    # The app sees the caller's own address, not the proxy's (api.guard counts by it).
    assert directive("proxy_set_header X-Forwarded-For") == "$remote_addr"


def test_compose_runs_the_proxy_in_front_of_the_api():
    result = compose()
    assert result.returncode == 0, result.stderr
    proxy = service(result.stdout, "proxy")
    assert "deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy.replace(str(REPO) + "/", "")
    assert re.search(r"target: 8080", proxy), proxy
    assert re.search(r"^    depends_on:\n      api:", proxy, re.MULTILINE), proxy
    api = service(result.stdout, "api")
    assert "FORWARDED_ALLOW_IPS" in api
