#!/usr/bin/env bash
# Load test of a release build of Tollgate on a fresh database, bounded in time, on
# 127.0.0.1 only. Prints one table: scenario, req/s, p50, p99, RSS.
#
#   scripts/bench.sh                      # SQLite, c=32 and c=128, 10 s per point
#   DB=postgres scripts/bench.sh          # PostgreSQL at $PG_SERVER (database dropped/created)
#   PEERS=1 scripts/bench.sh              # also run ../shared/bench peers (ceiling, oidc-provider)
#                                         # in the same invocation and print ratios
# Environment: DB (sqlite|postgres), DURATION (10s), CONNS ("32 128"), PORT (3004),
#   PG_SERVER (postgres://postgres@127.0.0.1:5432), WORK (/tmp/tollgate-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DB="${DB:-sqlite}" DURATION="${DURATION:-10s}" CONNS="${CONNS:-32 128}" PORT="${PORT:-3004}"
PG_SERVER="${PG_SERVER:-postgres://postgres@127.0.0.1:5432}"
WORK="${WORK:-${TMPDIR:-/tmp}/tollgate-bench}"
SHARED="$ROOT/../shared/bench"
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }

cargo build --release --locked -p tollgate >&2
BIN="$ROOT/target/release/tollgate"
rm -rf "$WORK"; mkdir -p "$WORK"
case "$DB" in
  sqlite) export TOLLGATE_DATABASE_URL="sqlite://$WORK/bench.db" ;;
  postgres)
    psql "$PG_SERVER/postgres" -qc "DROP DATABASE IF EXISTS tollgate_bench" -c "CREATE DATABASE tollgate_bench" >&2
    export TOLLGATE_DATABASE_URL="$PG_SERVER/tollgate_bench" ;;
  *) echo "bench: DB must be sqlite or postgres" >&2; exit 1 ;;
esac
export TOLLGATE_LISTEN="127.0.0.1:$PORT" TOLLGATE_ISSUER="http://127.0.0.1:$PORT"
export TOLLGATE_ADMIN_PASSWORD="bench-admin-password" RUST_LOG="${RUST_LOG:-warn}"
BASE="http://127.0.0.1:$PORT"

"$BIN" migrate 2>/dev/null
KEY=$("$BIN" admin create-key --name bench 2>/dev/null)
"$BIN" serve >"$WORK/server.log" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

RESP=$(curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"name":"bench","version":"1","type":"confidential","grant_types":["client_credentials"],"scopes":["api:read"]}' \
  "$BASE/admin/api/v1/clients")
export CLIENT_ID=$(echo "$RESP" | json '["client_id"]') CLIENT_SECRET=$(echo "$RESP" | json '["client_secret"]')
export SCOPE=api:read
export TOKEN=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "$BASE/oauth2/token" | json '["access_token"]')
RSS_IDLE=$(rss)

ROWS=()
point() { # name, conns, lua, path
  local out; out=$(wrk -t1 -c"$2" -d"$DURATION" --timeout 5s --latency -s "$3" "$BASE$4" | grep RESULT_JSON | cut -d' ' -f2-)
  local errs; errs=$(echo "$out" | json '["err_status"]+0')
  ROWS+=("$(echo "$out" | python3 -c "
import json,sys; r=json.load(sys.stdin)
print('| $1 | $2 | %.0f | %.2f | %.2f | %d | %s |' % (r['rps'], r['p50_us']/1000, r['p99_us']/1000, r['err_status']+r['err_connect']+r['err_read']+r['err_write']+r['err_timeout'], '$(rss)'))")")
}
wrk -t1 -c32 -d3s -s "$SHARED/wrk/client_credentials.lua" "$BASE/oauth2/token" >/dev/null  # warm-up
for c in $CONNS; do point "client_credentials ($DB)" "$c" "$SHARED/wrk/client_credentials.lua" /oauth2/token; done
point "introspection ($DB)" 32 "$ROOT/benches/wrk/introspect.lua" /oauth2/introspect
kill "$PID"; wait "$PID" 2>/dev/null || true

echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); wrk -t1 on the same machine; duration $DURATION per point"
echo "RSS idle: $RSS_IDLE MiB"
echo
echo "| scenario | conns | req/s | p50 ms | p99 ms | errors | RSS after MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"

if [[ "${PEERS:-0}" == 1 ]]; then
  echo
  echo "peers in the same invocation (../shared/bench/run-peers.sh, c=32, 1 run):"
  PEERS="ceiling-mem oidc-provider" CONNS=32 REPS=1 DURATION="$DURATION" "$SHARED/run-peers.sh" | tail -n 8
fi
