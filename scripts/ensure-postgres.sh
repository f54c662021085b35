#!/usr/bin/env bash
# Make sure the PostgreSQL server the suite uses is up; start the local cluster if it is not.
set -uo pipefail
url="$1"
up() { pg_isready -q -h 127.0.0.1 -p 5432; }
if up; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "PostgreSQL is down; starting the local cluster..."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in $(seq 1 30); do up && exit 0; sleep 1; done
fi
echo "PostgreSQL is not reachable at $url." >&2
echo "Install and start it (Debian: apt-get install postgresql) or set PG_URL." >&2
exit 1
