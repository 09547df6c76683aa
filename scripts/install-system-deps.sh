#!/bin/sh
# Install the Debian/Ubuntu packages the platform needs, only those that are missing.
#   scripts/install-system-deps.sh run    PostgreSQL N + PostGIS 3 + pgRouting, GDAL tools
#   scripts/install-system-deps.sh test   the same, plus what the tests drive (docker-compose,
#                                         Debian's Chromium for the browser tests, nginx whose
#                                         `nginx -t` checks deploy/nginx.conf)
# N is the PostgreSQL major the distribution offers: the one its `postgresql` metapackage depends
# on (15 on Debian 12, 16 on Ubuntu 24.04, 17 on Debian 13), or $EMINING_PG_MAJOR when set.
# geo/embedded.py then finds that major's server under /usr/lib/postgresql/N/bin.
# Runs apt-get as root, or through sudo when there is one. Another apt-get or dpkg holding the
# lock (unattended-upgrades on a fresh machine, a parallel install) is waited for, up to 10 min.
set -eu
purpose="${1:-run}"
lock="-o DPkg::Lock::Timeout=600"

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
updated=""
update() {
    [ -n "$updated" ] && return 0
    # shellcheck disable=SC2086  # $lock is two words on purpose
    $sudo apt-get $lock update -qq
    updated=yes
}

# The major the `postgresql` metapackage depends on ("Depends: postgresql-15").
offered_major() {
    apt-cache depends --important postgresql 2>/dev/null \
        | sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n 1
}

pg="${EMINING_PG_MAJOR:-}"
if [ -z "$pg" ]; then
    pg="$(offered_major)"
fi
if [ -z "$pg" ]; then  # a fresh image has no package lists yet
    update
    pg="$(offered_major)"
fi
if [ -z "$pg" ]; then
    echo "install-system-deps: this system's apt offers no 'postgresql' package; set" \
        "EMINING_PG_MAJOR or install PostgreSQL, PostGIS 3 and pgRouting yourself" >&2
    exit 1
fi

packages="postgresql-$pg postgresql-$pg-postgis-3 postgresql-$pg-pgrouting gdal-bin"
if [ "$purpose" = "test" ]; then
    packages="$packages docker-compose chromium fonts-wqy-microhei nginx"
    packages="$packages patroni etcd-server haproxy pgbouncer"
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

echo "installing (PostgreSQL $pg):$missing" >&2
update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get $lock install -y -qq --no-install-recommends \
    $missing >&2
