#!/usr/bin/env bash
# Load test of a release build of Tollgate: every scenario of issue 5 in one invocation,
# bounded in time, everything on 127.0.0.1, servers stopped by PID. Prints one table:
# scenario, req/s, p50, p99, errors, RSS, ratios to the peers (PEERS=1), comparison with
# the baseline row, and the issue's target for the row (✓ met, ✗ not).
#
#   scripts/bench.sh                       # SQLite, every scenario but the 1M-token ones
#   DB=postgres scripts/bench.sh           # PostgreSQL at $PG_SERVER (database tollgate_bench)
#   PEERS=1 scripts/bench.sh               # plus ../shared/bench's ceiling-mem and oidc-provider
#   SCALE=1000000 PEERS=1 scripts/bench.sh # the whole of issue 5
#   SCENARIOS="cc introspect" DURATION=3s BUILD=0 scripts/bench.sh   # a quick subset
#
# Scenarios, in the order they run (SCENARIOS picks some; default all of them):
#   cc          client_credentials at each of CONNS (after a WARMUP run)
#   introspect  POST /oauth2/introspect of one active token
#   code        authorization-code exchange: a user signs in once through the real /login and
#               consent pages (scripts/bench/signin.py); then GET /oauth2/authorize with the
#               session cookie (PKCE S256) makes CODES codes (that run is the "authorize" row),
#               and wrk exchanges each exactly once (benches/wrk/code_exchange.lua)
#   refresh     refresh-token rotation: POOL refresh tokens from the same flow; each response's
#               new refresh token goes back into the pool (benches/wrk/refresh.lua)
#   (PEERS=1: ceiling-mem and oidc-provider run here at each of CONNS, Tollgate stopped; the
#   client_credentials rows get their req/s ratio to each at the same conns)
#   startup     spawn `tollgate serve` on the database just used until /healthz says 200;
#               best of 3
#   janitor     (SCALE > 0) SCALE tokens of the bench client inserted straight into the
#               database (server stopped), expired 30 days ago, past the retention (the server
#               runs with TOLLGATE_TOKEN_RETENTION=604800, the default); the server's start-up
#               janitor pass purges them while cc c=32 runs at once (no warm-up). The purge time
#               comes from the server's log, what is left from the database. Then cc c=32 again
#               once the purge is over ("idle"): the janitor row's p99 is compared with it (with
#               the empty-database cc c=32 if the purge outlasts JANITOR_WAIT; the leftovers are
#               then deleted by SQL so they do not disturb what follows)
#   scale       (SCALE > 0) SCALE live tokens of a separate "holder" client inserted the same
#               way; start-up again, then cc c=32 and introspection with the bench client
#               (compared with the empty-database rows), then PATCH active=false of the holder
#               through the admin API, timed by curl (first of 3 deactivate/reactivate rounds;
#               the bench client stays active)
# Environment (defaults in brackets):
#   DB [sqlite] sqlite|postgres         DURATION [10s] wrk -d per point (s or m)
#   SCENARIOS [cc introspect code refresh startup scale janitor]
#   CONNS ["32 128"] client_credentials  INTROSPECT_CONNS, CODE_CONNS, REFRESH_CONNS [32]
#   WARMUP [3s]                          SCALE [0] tokens for scale/janitor (0 = skip them)
#   CODES [12000 × DURATION in s] codes made for each exchange point; if the server uses them
#     up early the point ends there and req/s counts the time it ran ("codes ran out")
#   POOL [max(256, 2 × REFRESH_CONNS)]   JANITOR_WAIT [600] s to wait for the purge to end
#   PEERS [0] 1 = run the peers         PEERS_WORK [run-peers.sh's default] its BENCH_WORK
#   PORT [3004]  PG_SERVER [postgres://postgres@127.0.0.1:5432]  WORK [${TMPDIR:-/tmp}/tollgate-bench]
#   BUILD [1] 0 = use target/release/tollgate as it is   KEEP [0] 1 = keep the database
#   RUST_LOG [warn]
# The server runs with TOLLGATE_AUTH_CODE_LIFETIME=600 (the maximum) so that codes made before
# the exchange run are still valid; code generation is cut short to stay inside it.
set -euo pipefail
export LC_ALL=C  # $EPOCHREALTIME with a dot
cd "$(dirname "$0")/.."
ROOT=$PWD
DB="${DB:-sqlite}" DURATION="${DURATION:-10s}" CONNS="${CONNS:-32 128}" PORT="${PORT:-3004}"
SCENARIOS="${SCENARIOS:-cc introspect code refresh startup scale janitor}"
INTROSPECT_CONNS="${INTROSPECT_CONNS:-32}" CODE_CONNS="${CODE_CONNS:-32}" REFRESH_CONNS="${REFRESH_CONNS:-32}"
WARMUP="${WARMUP:-3s}" SCALE="${SCALE:-0}" JANITOR_WAIT="${JANITOR_WAIT:-600}"
PG_SERVER="${PG_SERVER:-postgres://postgres@127.0.0.1:5432}"
WORK="${WORK:-${TMPDIR:-/tmp}/tollgate-bench}"
SHARED="$ROOT/../shared/bench" LUA="$ROOT/benches/wrk" HELP="$ROOT/scripts/bench"
export RUST_LOG="${RUST_LOG:-warn}"

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
command -v wrk >/dev/null || die "wrk is missing (apt-get install wrk)"
[[ "$DB" == sqlite || "$DB" == postgres ]] || die "DB must be sqlite or postgres"
# DURATION in whole seconds (wrk accepts 10s, 2m, 1h).
case "$DURATION" in
  *s) DUR_S=${DURATION%s} ;; *m) DUR_S=$(( ${DURATION%m} * 60 )) ;; *h) DUR_S=$(( ${DURATION%h} * 3600 )) ;;
  *) DUR_S=$DURATION ;;
esac
[[ "$DUR_S" =~ ^[0-9]+$ && "$DUR_S" -gt 0 ]] || die "DURATION must be like 10s or 1m"
CODES="${CODES:-$(( 12000 * DUR_S ))}"
max_refresh_conns=$(printf '%s\n' $REFRESH_CONNS | sort -n | tail -1)
POOL="${POOL:-$(( 2 * max_refresh_conns > 256 ? 2 * max_refresh_conns : 256 ))}"
CODE_LIFETIME=600
if [[ "$SCALE" -gt 0 && "$DB" == sqlite ]]; then
  command -v sqlite3 >/dev/null || die "SCALE needs the sqlite3 CLI (apt-get install -y sqlite3)"
fi
if curl -s -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; then die "port $PORT is already in use"; fi

if [[ "${BUILD:-1}" == 1 ]]; then cargo build --release --locked -p tollgate >&2; fi
BIN="$ROOT/target/release/tollgate"
[[ -x "$BIN" ]] || die "$BIN is missing (run with BUILD=1)"
rm -rf "$WORK"; mkdir -p "$WORK/points"
ROWS="$WORK/rows.jsonl" LOG="$WORK/server.log"
: >"$ROWS"
row() { python3 "$HELP/report.py" add "$ROWS" db="$DB" "$@"; }

case "$DB" in
  sqlite) export TOLLGATE_DATABASE_URL="sqlite://$WORK/bench.db" ;;
  postgres)
    psql -X "$PG_SERVER/postgres" -qc "DROP DATABASE IF EXISTS tollgate_bench" -c "CREATE DATABASE tollgate_bench" >&2
    export TOLLGATE_DATABASE_URL="$PG_SERVER/tollgate_bench" ;;
esac
# One SQL statement (or script) against the bench database; prints rows unaligned.
sql() {
  if [[ "$DB" == sqlite ]]; then
    sqlite3 -bail -cmd ".timeout 10000" "$WORK/bench.db" "$1"
  else
    psql -X -q -At -v ON_ERROR_STOP=1 "$TOLLGATE_DATABASE_URL" -c "$1"
  fi
}
export TOLLGATE_LISTEN="127.0.0.1:$PORT" TOLLGATE_ISSUER="http://127.0.0.1:$PORT"
export TOLLGATE_ADMIN_PASSWORD="bench-admin-password" TOLLGATE_AUTH_CODE_LIFETIME="$CODE_LIFETIME"
BASE="http://127.0.0.1:$PORT"

PID=""
stop_server() {
  [[ -n "$PID" ]] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=""
}
cleanup() {
  stop_server
  if [[ "${KEEP:-0}" != 1 ]]; then
    if [[ "$DB" == postgres ]]; then
      psql -X "$PG_SERVER/postgres" -qc "DROP DATABASE IF EXISTS tollgate_bench" >/dev/null 2>&1 || true
    else
      rm -f "$WORK"/bench.db "$WORK"/bench.db-wal "$WORK"/bench.db-shm
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# /healthz over bash's /dev/tcp: no process per probe, so the start-up time is not the
# poller's. True once the status line says 200.
probe() {
  { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || return 1
  printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  local line=""; read -r -t 5 line <&3 || true
  exec 3<&- 3>&-
  [[ "$line" == "HTTP/1."?" 200"* ]]
}
# Starts `tollgate serve` (extra VAR=value arguments go to its environment) and waits for
# /healthz; sets PID and STARTUP_MS (spawn → first 200, measured with $EPOCHREALTIME).
start_server() {
  local t0 t1
  echo "--- serve $(date -u +%FT%TZ) $*" >>"$LOG"
  t0=$EPOCHREALTIME
  env "$@" "$BIN" serve >>"$LOG" 2>&1 &
  PID=$!
  until probe; do
    if ! kill -0 "$PID" 2>/dev/null; then tail -20 "$LOG" >&2; PID=""; die "the server exited at start-up"; fi
    if (( ${EPOCHREALTIME/./} - ${t0/./} > 60000000 )); then tail -20 "$LOG" >&2; die "no /healthz 200 within 60 s"; fi
  done
  t1=$EPOCHREALTIME
  STARTUP_MS=$(( (${t1/./} - ${t0/./}) / 1000 ))
}
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
api() { # METHOD PATH [JSON]: the admin API; prints the body, fails unless 2xx
  local out code
  out=$(curl -s -w '\n%{http_code}' -X "$1" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "$BASE/admin/api/v1$2")
  code=${out##*$'\n'}
  [[ "$code" == 2* ]] || die "admin API $1 $2: HTTP $code: ${out%$'\n'*}"
  echo "${out%$'\n'*}"
}
# One wrk run: ID, label, conns, lua script, path, then row fields; extra environment for
# the script must be exported. Aborts if the script failed or the server died.
point() {
  local id=$1 label=$2 c=$3 lua=$4 path=$5; shift 5
  local f="$WORK/points/$id.txt"
  say "$label c=$c ($DURATION)"
  wrk -t1 -c"$c" -d"$DURATION" --timeout 5s --latency -s "$lua" "$BASE$path" >"$f" 2>&1 || true
  if grep -qE '\.lua:[0-9]+:' "$f" || ! grep -q '^RESULT_JSON' "$f"; then cat "$f" >&2; die "wrk failed ($id)"; fi
  kill -0 "$PID" 2>/dev/null || { tail -20 "$LOG" >&2; die "the server died during $id"; }
  row id="$id" label="$label" conns="$c" wrk="$f" rss="$(rss)" "$@"
  grep '^RESULT_JSON' "$f" | cut -c13- >&2
}
warmup() { wrk -t1 -c32 -d"$WARMUP" -s "$SHARED/wrk/client_credentials.lua" "$BASE/oauth2/token" >/dev/null 2>&1 || true; }
cc_env() { export CLIENT_ID="$CC_ID" CLIENT_SECRET="$CC_SECRET" SCOPE=api:read; }

# ---------------------------------------------------------------- setup: fresh database
say "fresh $DB database, admin key, clients, user"
"$BIN" migrate >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log" >&2; die "migrate failed"; }
KEY=$("$BIN" admin create-key --name bench 2>/dev/null)
start_server
REDIRECT_URI="http://127.0.0.1:9/cb"
RESP=$(api POST /clients '{"name":"bench","version":"1","type":"confidential","grant_types":["client_credentials"],"scopes":["api:read"]}')
CC_ID=$(echo "$RESP" | json '["client_id"]') CC_SECRET=$(echo "$RESP" | json '["client_secret"]')
RESP=$(api POST /clients "{\"name\":\"bench-code\",\"version\":\"1\",\"type\":\"confidential\",\"grant_types\":[\"authorization_code\"],\"redirect_uris\":[\"$REDIRECT_URI\"],\"scopes\":[\"api:read\"],\"refresh_count\":\"unlimited\"}")
AC_ID=$(echo "$RESP" | json '["client_id"]') AC_SECRET=$(echo "$RESP" | json '["client_secret"]')
RESP=$(api POST /clients '{"name":"bench-holder","version":"1","type":"confidential","grant_types":["client_credentials"],"scopes":["api:read"]}')
HOLDER_ID=$(echo "$RESP" | json '["client_id"]')
cc_env
TOKEN=$(curl -s -u "$CC_ID:$CC_SECRET" -d grant_type=client_credentials "$BASE/oauth2/token" | json '["access_token"]')
export TOKEN
RSS_IDLE=$(rss)
say "warm-up ($WARMUP)"
warmup

# ---------------------------------------------------------------- empty database
if want cc; then
  for c in $CONNS; do
    point "cc-c$c" client_credentials "$c" "$SHARED/wrk/client_credentials.lua" /oauth2/token issues=1
  done
fi
if want introspect; then
  for c in $INTROSPECT_CONNS; do
    point "introspect-c$c" introspection "$c" "$LUA/introspect.lua" /oauth2/introspect
  done
fi

if want code || want refresh; then
  # PKCE S256 with one fixed verifier (the server checks it per code all the same).
  export CODE_VERIFIER="bench-pkce-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
  CHALLENGE=$(python3 -c "import base64,hashlib,sys; print(base64.urlsafe_b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).rstrip(b'=').decode())" "$CODE_VERIFIER")
  export AUTHORIZE_QUERY="response_type=code&client_id=$AC_ID&scope=api%3Aread&code_challenge=$CHALLENGE&code_challenge_method=S256"
  USER_PASSWORD="bench-user-password-0123"
  api POST /users "{\"username\":\"benchuser\",\"password\":\"$USER_PASSWORD\"}" >/dev/null
  say "sign-in and consent as benchuser"
  SESSION_COOKIE=$(python3 "$HELP/signin.py" "$BASE" benchuser "$USER_PASSWORD" "$AUTHORIZE_QUERY")
  export SESSION_COOKIE
  # make_codes ID N CONNS: N codes into $WORK/ID.codes through /oauth2/authorize, within the
  # time that leaves them valid for an exchange run of DURATION afterwards.
  make_codes() {
    local budget=$(( CODE_LIFETIME - DUR_S - 30 )) f="$WORK/points/$1.txt"
    CODES_OUT="$WORK/$1.codes" CODES=$2 wrk -t1 -c"$3" -d"${budget}s" --timeout 5s --latency \
      -s "$LUA/authorize.lua" "$BASE/" >"$f" 2>&1 || true
    grep -qE '\.lua:[0-9]+:' "$f" && { cat "$f" >&2; die "wrk failed ($1)"; }
    local n; n=$(wc -l <"$WORK/$1.codes")
    [[ "$n" -gt 0 ]] || { cat "$f" >&2; die "no authorization codes were issued"; }
    echo "$n"
  }
fi
if want code; then
  for c in $CODE_CONNS; do
    say "authorize: $CODES codes (c=$c)"
    n=$(make_codes "authorize-c$c" "$CODES" "$c")
    row id="authorize-c$c" label="authorize (code issuance, signed in)" conns="$c" \
      wrk="$WORK/points/authorize-c$c.txt" rss="$(rss)" stops=1 note="made $n codes for the next row"
    export CLIENT_ID="$AC_ID" CLIENT_SECRET="$AC_SECRET" CODES_FILE="$WORK/authorize-c$c.codes"
    point "code-c$c" "authorization_code exchange" "$c" "$LUA/code_exchange.lua" /oauth2/token \
      note="PKCE S256; access + refresh token per code"
  done
  cc_env
fi
if want refresh; then
  for c in $REFRESH_CONNS; do
    say "refresh pool: $POOL tokens"
    make_codes "pool-c$c" "$POOL" 8 >/dev/null
    export CLIENT_ID="$AC_ID" CLIENT_SECRET="$AC_SECRET" REFRESH_FILE="$WORK/pool-c$c.refresh"
    python3 "$HELP/exchange.py" "$BASE" "$WORK/pool-c$c.codes" refresh_token >"$REFRESH_FILE" 2>"$WORK/pool-c$c.log" \
      || { cat "$WORK/pool-c$c.log" >&2; die "could not seed the refresh pool"; }
    refused=$(wc -l <"$WORK/pool-c$c.log")
    [[ "$refused" == 0 ]] || { echo "bench: refresh pool:" >&2; cat "$WORK/pool-c$c.log" >&2; }
    point "refresh-c$c" "refresh_token rotation" "$c" "$LUA/refresh.lua" /oauth2/token \
      note="pool of $(wc -l <"$REFRESH_FILE"); each refresh consumes its token$([[ "$refused" == 0 ]] || echo "; $refused codes REFUSED while seeding the pool (pool-c$c.log)")"
  done
  cc_env
fi
RSS_END=$(rss)
stop_server

# ---------------------------------------------------------------- peers, same invocation
PEERS_TSV=""
if [[ "${PEERS:-0}" == 1 ]]; then
  peer_conns="$CONNS"
  say "peers: ceiling-mem oidc-provider, c=$peer_conns (../shared/bench/run-peers.sh)"
  (
    unset CLIENT_ID CLIENT_SECRET SCOPE TOKEN
    [[ -n "${PEERS_WORK:-}" ]] && export BENCH_WORK="$PEERS_WORK"
    PEERS="ceiling-mem oidc-provider" CONNS="$peer_conns" REPS=1 DURATION="$DURATION" WARMUP="$WARMUP" \
      "$SHARED/run-peers.sh" >"$WORK/peers.md" 2>"$WORK/peers.log"
  ) || { cat "$WORK/peers.log" >&2; echo "bench: run-peers.sh failed; no ratios" >&2; }
  dir=$(sed -n 's/^results in //p' "$WORK/peers.log" | tail -1)
  if [[ -n "$dir" && -s "$dir/results.tsv" ]]; then
    cp "$dir/results.tsv" "$WORK/peers.tsv"; PEERS_TSV="$WORK/peers.tsv"
    grep -v '^server' "$PEERS_TSV" | awk -F'\t' '$11 != "yes" {print "bench: peer run not valid: " $0}' >&2
  else
    echo "bench: no results.tsv from run-peers.sh (see $WORK/peers.log)" >&2
  fi
fi

# ---------------------------------------------------------------- start-up
tokens_in_db() { sql "SELECT count(*) FROM tokens"; }
startup_best() { # ID label: three starts, the last one stays up
  local runs="" best=999999 i
  for i in 1 2 3; do
    [[ $i == 1 ]] || stop_server
    start_server
    runs="$runs $STARTUP_MS"
    (( STARTUP_MS < best )) && best=$STARTUP_MS
  done
  row id="$1" label="$2" conns=1 ms="$best" rss="$(rss)" note="best of 3 (${runs# } ms), spawn → /healthz 200; RSS idle"
  say "$2: best $best ms of$runs"
}
if want startup; then
  say "start-up on the database just used"
  startup_best startup "start-up, existing database ($(tokens_in_db) tokens)"
  stop_server
fi

# ---------------------------------------------------------------- 1M tokens
now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
# seed_tokens CLIENT_ID N live|expired: N access tokens of the client, written straight into
# the tokens table (server stopped): random ids and hashes (64 and >= 192 random bits, shaped
# like the real ones), the client's current epoch, issued over an hour; live ones expire in a
# day, expired ones expired 30 days ago.
seed_tokens() {
  local client=$1 n=$2 mode=$3 epoch now issued expires
  epoch=$(sql "SELECT token_epoch FROM clients WHERE client_id = '$client'")
  [[ -n "$epoch" ]] || die "seed: no client $client"
  now=$(now_ms)
  if [[ $mode == live ]]; then
    issued="$now - (i % 3600) * 1000"; expires="$now - (i % 3600) * 1000 + 86400000"
  else
    issued="$now - 2592000000 - (i % 3600) * 1000"; expires="$now - 2592000000 - (i % 3600) * 1000 + 3600000"
  fi
  local cols="id, token_hash, kind, client_id, scopes, grant_type, client_epoch, issued_at, expires_at"
  local t0=$EPOCHREALTIME
  if [[ "$DB" == sqlite ]]; then
    sql "BEGIN; WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n)
         INSERT INTO tokens ($cols)
         SELECT lower(hex(randomblob(8))), 'hmac-sha256\$' || lower(hex(randomblob(24))), 'access', '$client',
                'api:read', 'client_credentials', $epoch, $issued, $expires FROM s; COMMIT;"
  else
    sql "INSERT INTO tokens ($cols)
         SELECT substr(replace(gen_random_uuid()::text, '-', ''), 1, 16),
                'hmac-sha256\$' || replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''),
                'access', '$client', 'api:read', 'client_credentials', $epoch, $issued, $expires
         FROM generate_series(1, $n) AS i"
    sql "VACUUM ANALYZE tokens"  # the state autovacuum would reach; keeps it out of the runs
  fi
  say "seeded $n $mode tokens in $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000000 )) s"
}

if [[ "$SCALE" -gt 0 ]] && want janitor; then
  say "janitor: $SCALE expired tokens of the bench client"
  seed_tokens "$CC_ID" "$SCALE" expired
  cutoff=$(( $(now_ms) - 604800000 ))  # the retention the server gets below
  before=$(sql "SELECT count(*) FROM tokens WHERE expires_at < $cutoff")
  JLOG="$WORK/janitor.log"
  : >"$JLOG"
  LOG_SAVED=$LOG LOG=$JLOG
  # No warm-up: the janitor's first pass starts with the server.
  start_server TOLLGATE_LOG_FORMAT=json TOLLGATE_TOKEN_RETENTION=604800 RUST_LOG="$RUST_LOG,tollgate::server=info"
  w0=$EPOCHREALTIME
  point janitor-cc-c32 "client_credentials during the janitor's purge of $SCALE" 32 \
    "$SHARED/wrk/client_credentials.lua" /oauth2/token issues=1
  w1=$EPOCHREALTIME
  say "waiting up to ${JANITOR_WAIT}s for the purge to finish"
  for _ in $(seq $(( JANITOR_WAIT * 10 ))); do
    grep -q 'janitor purged old rows' "$JLOG" && break
    kill -0 "$PID" 2>/dev/null || die "the server died during the purge"
    sleep 0.1
  done
  left=$(sql "SELECT count(*) FROM tokens WHERE expires_at < $cutoff")
  jnote=$(python3 - "$JLOG" "$w0" "$w1" "$before" "$left" "$EPOCHREALTIME" <<'EOF2'
import json, sys
from datetime import datetime
log, w0, w1, before, left, checked = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
def ts(e):
    return datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).timestamp()
start = end = purged = None
for line in open(log):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    msg = e.get("fields", {}).get("message", "")
    if msg == "tollgate listening" and start is None:
        start = ts(e)
    elif msg == "janitor purged old rows" and end is None:
        end, purged = ts(e), e.get("fields", {}).get("tokens")
if start is None:
    print("no 'tollgate listening' line in the log: purge time unknown")
elif end is None:
    print(f"purge NOT finished {checked - start:.0f} s after start-up (JANITOR_WAIT): "
          f"{before - left} of {before} rows gone; idle p99 taken from the empty-database run")
else:
    overlap = max(0.0, min(end, w1) - max(start, w0))
    when = ("during the whole run" if end >= w1
            else f"{overlap / (w1 - w0) * 100:.0f} % of the run under purge")
    if overlap <= 0:
        when = "NOT under load: the purge ended before wrk started"
    print(f"purge took {end - start:.1f} s from start-up ({purged} tokens per the log; "
          f"{before} seeded, {left} left): {when}")
EOF2
)
  say "janitor: $jnote"
  if [[ "$left" == 0 ]]; then
    point janitor-idle-cc-c32 "client_credentials after the purge (idle)" 32 \
      "$SHARED/wrk/client_credentials.lua" /oauth2/token issues=1
    idle=janitor-idle-cc-c32
  else
    idle=cc-c32  # still purging: the empty-database run is the only idle figure
  fi
  python3 - "$ROWS" "$jnote" "$idle" <<'EOF2'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for r in rows:
    if r.get("id") == "janitor-cc-c32":
        r["note"], r["vs"] = sys.argv[2], sys.argv[3]
open(sys.argv[1], "w").write("".join(json.dumps(r) + "\n" for r in rows))
EOF2
  stop_server
  LOG=$LOG_SAVED
  if [[ "$left" != 0 ]]; then
    say "deleting the $left rows the janitor left"
    sql "DELETE FROM tokens WHERE expires_at < $cutoff" >/dev/null
  fi
fi

if [[ "$SCALE" -gt 0 ]] && want scale; then
  say "scale: $SCALE live tokens of the holder client"
  seed_tokens "$HOLDER_ID" "$SCALE" live
  startup_best startup-scale "start-up, +$SCALE tokens ($(tokens_in_db) tokens)"
  warmup
  want cc && point cc-c32-scale "client_credentials, +$SCALE tokens" 32 "$SHARED/wrk/client_credentials.lua" /oauth2/token \
    issues=1 vs=cc-c32
  want introspect && point introspect-c32-scale "introspection, +$SCALE tokens" 32 "$LUA/introspect.lua" /oauth2/introspect \
    vs=introspect-c32
  # The holder's 1M tokens die with its epoch; first round is the figure, all three noted.
  times=""
  for _ in 1 2 3; do
    out=$(curl -s -o "$WORK/deactivate.json" -w '%{http_code} %{time_total}' -X PATCH \
      -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"active":false}' \
      "$BASE/admin/api/v1/clients/$HOLDER_ID")
    [[ "${out%% *}" == 200 ]] || die "deactivate: HTTP $out: $(cat "$WORK/deactivate.json")"
    times="$times $(awk -v s="${out#* }" 'BEGIN{printf "%.1f", s*1000}')"
    api PATCH "/clients/$HOLDER_ID" '{"active":true}' >/dev/null
  done
  api PATCH "/clients/$HOLDER_ID" '{"active":false}' >/dev/null
  set -- $times
  row id=deactivate-scale label="deactivate the client holding $SCALE tokens (PATCH)" conns=1 ms="$1" \
    note="curl time_total; rounds:${times} ms (reactivated in between)"
  say "deactivation:$times ms"
  stop_server
fi

# ---------------------------------------------------------------- the table
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); wrk -t1 on the same machine"
echo "tollgate $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- crates || echo '+uncommitted changes'), binary built $(date -u -r "$BIN" +%FT%TZ); DB=$DB; DURATION=$DURATION per point; SCALE=$SCALE; $(date -u +%FT%TZ)"
echo "RSS idle after set-up (clients created, one token issued): $RSS_IDLE MiB; after the empty-database scenarios: $RSS_END MiB"
echo
python3 "$HELP/report.py" table "$ROWS" "$PEERS_TSV"
echo
echo "raw wrk outputs, server logs and rows: $WORK"
