"""Where the sample data is: one place for the loader, the projects and the resources.

Why a module of its own: ``geo.load`` reads the projects and resources loaders, which need the
same folder; importing it from ``geo.load`` made the two modules import each other.
"""

from __future__ import annotations

from pathlib import Path


def samples_folder() -> Path:
    """The sample data: installed as the package data of ``geo.samples`` (a wheel), else
    ``data/samples`` of the checkout this module runs from (editable installs, PYTHONPATH)."""
    installed = Path(__file__).resolve().parent / "samples"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[1] / "data" / "samples"


SAMPLES = samples_folder()
