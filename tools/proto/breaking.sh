#!/usr/bin/env bash
# Usage: tools/proto/breaking.sh [GIT_REF]   (default: main; run from the repo root)
#
# Checks proto/ for breaking changes against GIT_REF. `buf breaking --against
# '.git#branch=main'` cannot compile the old side: the googleapis protos in
# third_party/ are extracted at build time and not committed. So copy the
# ref's buf.yaml and proto/ to a temporary workspace, add the local
# third_party/googleapis (ignored by the breaking rules) and compare to that.
set -euo pipefail

ref="${1:-main}"
buf="${BUF:-.venv/bin/buf}"
old="$(mktemp -d)"
trap 'rm -rf "$old"' EXIT

git archive --format=tar "$ref" -- buf.yaml proto | tar -x -C "$old"
mkdir -p "$old/third_party"
cp -R third_party/googleapis "$old/third_party/"
"$buf" breaking --against "$old"
