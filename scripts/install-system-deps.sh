#!/bin/sh
# Install the Debian/Ubuntu packages the platform needs, only those that are missing.
#   scripts/install-system-deps.sh run    PostgreSQL 15 + PostGIS 3 + pgRouting, GDAL tools
#   scripts/install-system-deps.sh test   the same, plus what the tests drive (docker-compose,
#                                         Debian's Chromium for the browser tests)
# Runs apt-get as root, or through sudo when there is one.
set -eu
purpose="${1:-run}"

pg=15
packages="postgresql-$pg postgresql-$pg-postgis-3 postgresql-$pg-pgrouting gdal-bin"
if [ "$purpose" = "test" ]; then
    packages="$packages docker-compose chromium fonts-wqy-microhei patroni etcd-server haproxy pgbouncer"
fi
if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
    packages="$packages python3-venv"
fi

missing=""
for package in $packages; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "installing:$missing" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
