# The emining API image: `emining serve` against the PostgreSQL server named by DATABASE_URL
# (see docker-compose.yml). Without DATABASE_URL the CLI would start its embedded cluster, which
# needs PostgreSQL server binaries this image does not have: always set DATABASE_URL here.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, in their own layer, so editing the code does not reinstall them. All of
# them (psycopg[binary], shapely, pyproj, pyogrio, rasterio, ...) ship manylinux wheels that
# bundle their C libraries (libpq, GEOS, PROJ, GDAL), so no apt packages are needed.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The whole checkout (less .dockerignore) goes to /app and is installed as a regular package:
# the samples (data/samples, as geo.samples) and the migrations are package data of the wheel.
COPY . .
RUN pip install --no-deps . \
    && useradd --system --create-home --home-dir /home/emining --uid 10001 emining \
    && mkdir -p /var/lib/emining \
    && chown emining: /var/lib/emining

# The app only reads /app (root-owned files) and writes only under $EMINING_HOME: the sample
# rasters that `emining serve` derives on first start (rasters/). A volume, so they outlive the
# container. tests/test_image.py runs this CMD, with this ENV, as an unprivileged user from a
# read-only copy of the checkout.
ENV EMINING_HOME=/var/lib/emining
VOLUME /var/lib/emining
USER emining
EXPOSE 8000
CMD ["emining", "serve", "--host", "0.0.0.0", "--port", "8000"]
