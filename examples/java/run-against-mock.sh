#!/usr/bin/env bash
# Starts a mock (npm start, free ports, a fresh PKI, trouble listeners on free ports) and the
# reference license server asking it (dist/examples/license-server.mjs, built by npm ci / npm run
# build), runs the Java examples against them, stops both. Exit status: the first failing
# example's. Run from anywhere after `npm ci`: bash examples/java/run-against-mock.sh
# The conformance run's JUnit XML goes to $CONFORMANCE_JUNIT (default: a temporary file, shown).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
mock_pid=
license_pid=
cleanup() {
  for pid in "$license_pid" "$mock_pid"; do
    if [ -n "$pid" ]; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

npm start --silent -- --host 127.0.0.1 --port 0 --admin-host 127.0.0.1 --admin-port 0 --trouble-port 0 \
  --certs "$work/certs" --ready-file "$work/ready.json" --log-level warn --no-watch &
mock_pid=$!

for _ in $(seq 1 300); do   # at most 30 s
  [ -f "$work/ready.json" ] && break
  kill -0 "$mock_pid" 2>/dev/null || { echo "the mock exited before it was ready" >&2; exit 1; }
  sleep 0.1
done
[ -f "$work/ready.json" ] || { echo "the mock was not ready within 30 s" >&2; exit 1; }

url() { node -e "process.stdout.write(JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'))[process.argv[2]])" "$work/ready.json" "$1"; }
admin_url=$(url adminUrl)
entitlement_url=$(url entitlementUrl)
java examples/java/EntitlementMockExample.java "$admin_url" "$entitlement_url" "$work/certs"

# The license server under test: here the reference one, on a free port; it prints its URL first.
timeout_ms=1500
: > "$work/license-server.log"
ENTITLEMENT_URL="$entitlement_url" CERT="$work/certs/client.crt" KEY="$work/certs/client.key" CA="$work/certs/ca.crt" \
  HOST=127.0.0.1 PORT=0 TIMEOUT_MS=$timeout_ms node dist/examples/license-server.mjs > "$work/license-server.log" 2>&1 &
license_pid=$!
license_url=
for _ in $(seq 1 300); do
  license_url=$(sed -n 's/^license server listening on \(http[^ ]*\).*/\1/p' "$work/license-server.log")
  [ -n "$license_url" ] && break
  kill -0 "$license_pid" 2>/dev/null || { echo "the license server exited:" >&2; cat "$work/license-server.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$license_url" ] || { echo "the license server was not listening within 30 s" >&2; exit 1; }

java examples/java/ConformanceExample.java "$admin_url" "$license_url" "${CONFORMANCE_JUNIT:-$work/conformance-junit.xml}" "$timeout_ms"
