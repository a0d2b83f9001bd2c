#!/usr/bin/env bash
# Starts a mock (npm start, free ports, a fresh PKI), runs the Java example against it, stops the
# mock. Exit status: the example's. Run from anywhere after `npm ci`: bash examples/java/run-against-mock.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
mock_pid=
cleanup() {
  if [ -n "$mock_pid" ]; then
    kill -TERM "$mock_pid" 2>/dev/null || true
    wait "$mock_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

npm start --silent -- --host 127.0.0.1 --port 0 --admin-host 127.0.0.1 --admin-port 0 \
  --certs "$work/certs" --ready-file "$work/ready.json" --log-level warn --no-watch &
mock_pid=$!

for _ in $(seq 1 300); do   # at most 30 s
  [ -f "$work/ready.json" ] && break
  kill -0 "$mock_pid" 2>/dev/null || { echo "the mock exited before it was ready" >&2; exit 1; }
  sleep 0.1
done
[ -f "$work/ready.json" ] || { echo "the mock was not ready within 30 s" >&2; exit 1; }

url() { node -e "process.stdout.write(JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'))[process.argv[2]])" "$work/ready.json" "$1"; }
java examples/java/EntitlementMockExample.java "$(url adminUrl)" "$(url entitlementUrl)" "$work/certs"
