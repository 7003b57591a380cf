#!/usr/bin/env bash
# Usage: tools/images/base-image.sh IMAGE
#
# Builds a minimal Debian bookworm image with python3 and python3-venv from
# the machine's own Debian mirror (debootstrap), for machines that reach
# Debian's packages but no container registry. Pass it to `make images` as
# BASE_IMAGE. Needs root, debootstrap and a running Docker engine.
set -euo pipefail

image="${1:?usage: $0 IMAGE}"
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image already exists"
  exit 0
fi
mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
mirror="${mirror:-http://deb.debian.org/debian}"
rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" "$mirror" >/dev/null
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import - "$image" >/dev/null
echo "built $image"
