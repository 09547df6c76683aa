"""Where the committed data is: the sample layers and the offline basemap.

Why a module of its own: ``geo.load`` reads the projects and resources loaders, which need the
same folder; importing it from ``geo.load`` made the two modules import each other. A wheel
installs ``data/samples`` as the package data of ``geo.samples`` and ``data/basemap`` as that of
``geo.basemap_data`` (pyproject.toml), so a non-editable install has them too.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def data_folder(checkout: str, installed: str) -> Path:
    """``geo/<installed>`` of an installed wheel, else ``data/<checkout>`` of the checkout this
    module runs from (editable installs, PYTHONPATH)."""
    inside = HERE / installed
    return inside if inside.is_dir() else HERE.parent / "data" / checkout


def samples_folder() -> Path:
    return data_folder("samples", "samples")


SAMPLES = samples_folder()
BASEMAP = data_folder("basemap", "basemap_data")
