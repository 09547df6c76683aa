"""Regenerate the sample rasters (accessibility, deposit density) from the store's own data.

Same as ``emining raster derive``; kept beside build.py so the samples have one place to look.
Run: ``.venv/bin/python data/samples/rasters.py [--resolution 1000]``.
"""

from api.cli import raster_derive

if __name__ == "__main__":
    raster_derive()
