"""scripts/install-system-deps.sh and geo/embedded.py agree on the PostgreSQL major.

The script is run for real, with recording stand-ins for apt-get, apt-cache, dpkg-query and id
first on its PATH (installing packages is not something a test may do): what it asks apt for is
what it would install on a machine whose distribution offers that major.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from geo.embedded import ClusterError, find_bindir
from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "install-system-deps.sh"


def shims(folder: Path, offered: str | None, installed: tuple[str, ...] = ()) -> Path:
    """Stand-ins that log their arguments; apt-cache offers ``offered`` once lists exist."""
    log = folder / "calls.log"
    lists = folder / "lists-fetched"
    if offered is None:
        depends = ""
    else:
        depends = f"postgresql\n  Depends: postgresql-{offered}\n  Suggests: postgresql-doc\n"
    scripts = {
        # Like a fresh image: apt-cache knows nothing until apt-get update fetched the lists.
        "apt-cache": f'echo "apt-cache $*" >> {log}\n'
        f"[ -e {lists} ] && printf '%s' {shlex.quote(depends)}\nexit 0",
        "apt-get": f'echo "apt-get $*" >> {log}\ncase " $* " in *" update "*) touch {lists};; esac',
        "dpkg-query": "for package; do :; done\n"  # the last argument
        f"for p in {' '.join(installed) or 'none'}; do "
        '[ "$p" = "$package" ] && { echo "install ok installed"; exit 0; }; done; exit 1',
        "id": "echo 0",
    }
    for name, body in scripts.items():
        path = folder / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return log


def run(folder: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    log = folder / "calls.log"
    environment = {
        "PATH": f"{folder}:{os.environ['PATH']}",
        **{k: v for k, v in os.environ.items() if k not in ("PATH", "EMINING_PG_MAJOR")},
        **env,
    }
    result = subprocess.run(
        ["sh", str(SCRIPT), "run"], capture_output=True, text=True, env=environment, timeout=60
    )
    return result, log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("major", ["15", "16", "17"])
def test_the_script_installs_the_major_the_distribution_offers(tmp_path, major):
    shims(tmp_path, major)
    result, calls = run(tmp_path)
    assert result.returncode == 0, result.stderr
    updates = [c for c in calls if c.startswith("apt-get") and " update" in c]
    installs = [c for c in calls if c.startswith("apt-get") and " install " in c]
    assert len(updates) == 1 and len(installs) == 1, calls
    # Both wait for another apt or dpkg holding the lock rather than failing at once.
    for call in (*updates, *installs):
        assert "-o DPkg::Lock::Timeout=600" in call
    packages = installs[0].split()
    for package in ("postgresql-{}", "postgresql-{}-postgis-3", "postgresql-{}-pgrouting"):
        assert package.format(major) in packages
    assert not any(p.startswith("postgresql-") and major not in p for p in packages)
    assert "gdal-bin" in packages


def test_nothing_missing_means_no_apt_get(tmp_path):
    installed = ("postgresql-16", "postgresql-16-postgis-3", "postgresql-16-pgrouting", "gdal-bin")
    shims(tmp_path, "16", installed)
    (tmp_path / "lists-fetched").touch()  # lists present: the major is known without an update
    result, calls = run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert not [c for c in calls if c.startswith("apt-get")], calls


def test_a_system_without_postgresql_is_a_clear_failure(tmp_path):
    shims(tmp_path, None)
    result, calls = run(tmp_path)
    assert result.returncode == 1
    assert "EMINING_PG_MAJOR" in result.stderr
    assert not [c for c in calls if " install " in c]


def test_emining_pg_major_overrides_the_detection(tmp_path):
    shims(tmp_path, "15")
    result, calls = run(tmp_path, EMINING_PG_MAJOR="17")
    assert result.returncode == 0, result.stderr
    install = next(c for c in calls if " install " in c).split()
    assert "postgresql-17-postgis-3" in install and "postgresql-15" not in install


def test_on_this_machine_the_offered_major_is_the_one_the_cluster_runs(tmp_path):
    """The real apt-cache's answer (no stand-ins) names the major geo/embedded.py picks."""
    depends = subprocess.run(
        ["apt-cache", "depends", "--important", "postgresql"], capture_output=True, text=True
    ).stdout
    offered = next(
        line.split("postgresql-")[1] for line in depends.splitlines() if "Depends:" in line
    )
    assert find_bindir() == Path(f"/usr/lib/postgresql/{offered}/bin")


def fake_install(root: Path, major: int, postgis: bool) -> None:
    bindir = root / "lib" / str(major) / "bin"
    bindir.mkdir(parents=True)
    (bindir / "initdb").touch()
    if postgis:
        extension = root / "share" / str(major) / "extension"
        extension.mkdir(parents=True)
        (extension / "postgis.control").touch()


def test_embedded_picks_the_major_with_postgis_or_the_one_that_made_the_cluster(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("EMINING_PG_BINDIR", raising=False)
    fake_install(tmp_path, 15, postgis=False)
    fake_install(tmp_path, 16, postgis=True)
    fake_install(tmp_path, 17, postgis=False)
    lib, share = tmp_path / "lib", tmp_path / "share"
    assert find_bindir(None, lib, share) == lib / "16" / "bin"
    datadir = tmp_path / "home" / "pgdata"
    datadir.mkdir(parents=True)
    (datadir / "PG_VERSION").write_text("15\n")
    assert find_bindir(datadir, lib, share) == lib / "15" / "bin"
    (datadir / "PG_VERSION").write_text("14\n")
    with pytest.raises(ClusterError, match="PostgreSQL 14"):
        find_bindir(datadir, lib, share)
