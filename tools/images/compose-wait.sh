#!/usr/bin/env bash
# Usage: tools/images/compose-wait.sh URL [TIMEOUT_SECONDS]    (COMPOSE: the compose command)
#
# Waits until GET URL (the gateway's /readyz) answers 200, which needs every
# service healthy behind it; what `docker compose up --wait` does, for
# docker-compose v1, which has no --wait. On timeout it prints `ps` and the
# last log lines and fails.
set -euo pipefail

url="${1:?usage: $0 URL [TIMEOUT_SECONDS]}"
timeout="${2:-180}"
compose="${COMPOSE:-docker-compose}"
start=$SECONDS
while (( SECONDS - start < timeout )); do
  if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$url" || true)" == 200 ]]; then
    echo "ready after $((SECONDS - start)) s: $url"
    exit 0
  fi
  sleep 1
done
echo "not ready after ${timeout} s: $url" >&2
$compose ps >&2 || true
$compose logs --no-color --tail=40 >&2 || true
exit 1
