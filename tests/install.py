"""The project installed as a user installs it: a regular (non-editable) ``pip install .`` into a
fresh venv, from a copy of the checkout that is removed afterwards.

The venv borrows the test venv's third-party packages through a ``.pth`` line (no download:
``--no-deps --no-build-isolation --no-index``); the project itself, and only it, comes from the
wheel. The interpreter may be another build of the same Python version (e.g. Debian's, which an
unprivileged user can run when the test venv's interpreter sits under /root): the borrowed
packages' compiled parts only need the same ABI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.conftest import REPO

PURELIB = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
SKIP = shutil.ignore_patterns(
    ".git", ".venv", ".data", "build", "*.egg-info", "__pycache__", "out", ".pytest_cache"
)


def outside() -> dict[str, str]:
    """The environment without PYTHONPATH: the worktree must not be importable."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def copy_checkout(target: Path) -> Path:
    shutil.copytree(REPO, target, ignore=SKIP)
    return target


def installed_venv(folder: Path, python: str | None = None) -> Path:
    """A venv in ``folder`` with the project installed from a copy of the checkout; its bin/."""
    source = copy_checkout(folder / "source")
    venv = folder / "venv"
    subprocess.run(
        [python or sys._base_executable, "-m", "venv", "--without-pip", venv],
        check=True, env=outside(),
    )  # fmt: skip
    purelib = Path(
        subprocess.run(
            [venv / "bin" / "python", "-c", PURELIB],
            capture_output=True, text=True, check=True, env=outside(),
        ).stdout.strip()
    )  # fmt: skip
    (purelib / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q",
         "--no-deps", "--no-build-isolation", "--no-index", source],
        check=True, cwd=folder, env=outside(),
    )  # fmt: skip
    shutil.rmtree(source)  # nothing may be read from the copy any more
    return venv / "bin"
