#!/usr/bin/env bash
# Usage: tools/images/postgres-image.sh [IMAGE]    (default shopmesh/postgres:15)
#
# Builds a PostgreSQL 15 image from the machine's own Debian mirror
# (debootstrap minbase bookworm + postgresql-15), for machines that reach
# Debian's packages but no container registry; compose.yaml uses it through
# POSTGRES_IMAGE. The entrypoint (postgres-entrypoint.sh) initialises the
# cluster on first start, creates one database per service and runs as the
# postgres user. Needs root, debootstrap and a running Docker engine.
# Set REBUILD=1 to replace an existing image.
set -euo pipefail

image="${1:-shopmesh/postgres:15}"
here="$(cd "$(dirname "$0")" && pwd)"
if [[ -z "${REBUILD:-}" ]] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image already exists"
  exit 0
fi
mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
mirror="${mirror:-http://deb.debian.org/debian}"
rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=postgresql-15 bookworm "$rootfs" "$mirror" >/dev/null
# The package's own cluster and caches are not wanted: the entrypoint makes one in PGDATA.
rm -rf "$rootfs"/var/lib/postgresql/15 "$rootfs"/etc/postgresql/15 \
  "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
uid="$(awk -F: '$1 == "postgres" {print $3}' "$rootfs/etc/passwd")"
gid="$(awk -F: '$1 == "postgres" {print $4}' "$rootfs/etc/passwd")"
install -m 0755 "$here/postgres-entrypoint.sh" "$rootfs/usr/local/bin/postgres-entrypoint"
# An empty volume mounted here takes this owner and mode.
install -d -m 0700 -o "$uid" -g "$gid" "$rootfs/var/lib/postgresql/data"
install -d -m 2775 -o "$uid" -g "$gid" "$rootfs/var/run/postgresql"
tar -C "$rootfs" -c . | docker import \
  --change "USER $uid:$gid" \
  --change "ENV PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8" \
  --change "VOLUME /var/lib/postgresql/data" \
  --change "EXPOSE 5432" \
  --change 'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]' \
  --change 'LABEL org.opencontainers.image.title=shopmesh-postgres org.opencontainers.image.description="PostgreSQL 15 from Debian bookworm, one database per Shopmesh service"' \
  - "$image" >/dev/null
echo "built $image (postgres uid $uid)"
