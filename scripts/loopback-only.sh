#!/usr/bin/env bash
# Run a command in a network namespace whose only interface is loopback (127.0.0.0/8): anything
# it starts that tries to reach another address (telemetry, a cloud metadata lookup, a hostname
# that resolves off the machine) fails instead of leaving the machine. Needs root (unshare -n).
set -euo pipefail
if [[ "$(id -u)" != 0 ]]; then
  echo "loopback-only: a network namespace needs root (unshare -n); run as root, or run the command" \
       "without this guard: $*" >&2
  exit 2
fi
exec unshare -n -- bash -c 'ip link set lo up && exec "$@"' loopback-only "$@"
