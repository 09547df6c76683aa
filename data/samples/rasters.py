"""Regenerate the sample rasters (accessibility, deposit density) from the store's own data.

Same as ``emining raster derive``; kept beside build.py so the samples have one place to look.
Run: ``.venv/bin/python data/samples/rasters.py [--resolution 1000]``. It uses the platform's
geo package directly, not the ``emining`` command (cli/), which would pull in the web app.
"""

import argparse

import psycopg

from geo import db
from geo.raster_derive import derive_samples

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=float, default=1000.0, help="Accessibility cell (m).")
    resolution = parser.parse_args().resolution
    with db.store() as target, psycopg.connect(target, autocommit=True) as conn:
        for info in derive_samples(conn, access_res=resolution):
            print(f"{info.name}: {info.width}x{info.height}, {info.path}")
