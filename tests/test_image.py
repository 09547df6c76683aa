"""The API image's start-up, without a Docker engine.

What the image does is read from the Dockerfile itself (its ENV, WORKDIR contents, VOLUME, CMD)
and done here the same way: the project installed as ``pip install .`` installs it, the checkout
copied read-only as /app, and the CMD run, with the image's environment, as an unprivileged user
(``nobody``, where the image has ``emining``) against an empty throwaway database. It must
migrate, load the samples, derive the sample rasters into its volume and answer /healthz.

Two things differ from the container and are said here: the volume is a folder owned by that
user standing in for the image's VOLUME (EMINING_HOME points at it), and the port is a free one
instead of the CMD's 8000 (others may be using it on this machine).
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO
from tests.install import copy_checkout, installed_venv

pytestmark = pytest.mark.slow
USER = "nobody"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def image() -> dict:
    steps = instructions(REPO / "Dockerfile")
    env: dict[str, str] = {}
    for keyword, rest in steps:
        if keyword == "ENV":
            env.update(token.split("=", 1) for token in shlex.split(rest))
    cmd = [json.loads(rest) for keyword, rest in steps if keyword == "CMD"][-1]
    volumes = [rest for keyword, rest in steps if keyword == "VOLUME"]
    return {"env": env, "cmd": cmd, "volumes": volumes}


def unprivileged_python() -> str:
    """An interpreter of this Python version that the unprivileged user can run."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys._base_executable, f"/usr/bin/python{version}"):
        probe = subprocess.run(
            ["setpriv", *as_user(), candidate, "-c", "import sys; print(sys.version[:4])"],
            capture_output=True, text=True,
        )  # fmt: skip
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    pytest.fail(f"no Python {version} that {USER} can run (install Debian's python{version})")


def as_user() -> list[str]:
    entry = pwd.getpwnam(USER)
    return [f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", "--"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


@pytest.fixture(scope="module")
def container(cluster) -> Iterator[dict]:
    assert os.geteuid() == 0, "the image test switches to an unprivileged user: run it as root"
    spec = image()
    assert spec["env"].get("EMINING_HOME") in spec["volumes"], spec  # writes go to the volume
    # Directly under /tmp and traversable: pytest's own folders are private to root.
    root = Path(tempfile.mkdtemp(prefix="emining-image-"))
    root.chmod(0o755)
    bindir = installed_venv(root, unprivileged_python())
    app = copy_checkout(root / "app")
    subprocess.run(["chmod", "-R", "a-w", app], check=True)  # root-owned and read-only
    volume = root / "volume"
    volume.mkdir()
    entry = pwd.getpwnam(USER)
    os.chown(volume, entry.pw_uid, entry.pw_gid)
    name = f"image_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # empty: the image migrates it
    url = cluster.url(tcp=True).rsplit("/", 1)[0] + f"/{name}"  # as compose: TCP, a password
    port = free_port()
    cmd = list(spec["cmd"])
    cmd[cmd.index("--port") + 1] = str(port)
    env = {
        **spec["env"],
        "EMINING_HOME": str(volume),
        "DATABASE_URL": url,
        "PATH": f"{bindir}:/usr/bin:/bin",
        "HOME": "/nonexistent",
        "LANG": "C.UTF-8",
    }
    log = (root / "server.log").open("w+")
    server = subprocess.Popen(
        ["setpriv", *as_user(), *cmd], cwd=app, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            if server.poll() is not None:
                log.seek(0)
                pytest.fail(f"the image's command ended ({server.returncode}):\n{log.read()}")
            try:
                status, _, _ = get(f"{base}/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "no answer from /healthz within 10 minutes"
            time.sleep(1)
        yield {"base": base, "volume": volume, "app": app, "url": url}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        subprocess.run(["chmod", "-R", "u+w", app], check=False)
        shutil.rmtree(root, ignore_errors=True)


def test_healthz_answers_with_the_samples_counted(container):
    status, body, _ = get(f"{container['base']}/healthz")
    document = json.loads(body)
    assert status == 200 and document["status"] == "ok", document
    deposits = json.loads((REPO / "data" / "samples" / "deposits.geojson").read_text())
    assert document["layers"]["deposits"] == len(deposits["features"])


def test_the_samples_are_served(container):
    samples = json.loads((REPO / "data" / "samples" / "deposits.geojson").read_text())
    status, body, _ = get(f"{container['base']}/collections/deposits/items?limit=10000")
    assert status == 200
    served = {f["properties"]["name"] for f in json.loads(body)["features"]}
    assert served == {f["properties"]["name"] for f in samples["features"]}


def test_the_derived_rasters_live_in_the_volume_and_are_served(container):
    status, body, _ = get(f"{container['base']}/rasters")
    assert status == 200
    names = {r["id"] for r in json.loads(body)["rasters"]}
    assert names == {"accessibility", "deposit_density"}
    owner = pwd.getpwnam(USER).pw_uid
    for name in names:
        cog = container["volume"] / "rasters" / f"{name}.tif"
        assert cog.stat().st_uid == owner
        status, tile, kind = get(
            f"{container['base']}/collections/{name}/map/tiles/WebMercatorQuad/5/22/13.png"
        )
        assert status == 200 and kind == "image/png" and tile.startswith(b"\x89PNG"), tile[:200]
