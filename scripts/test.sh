#!/usr/bin/env bash
# The whole test suite, on SQLite and PostgreSQL.
#
# PostgreSQL: uses TEST_POSTGRES_URL if set; otherwise, if a server answers at
# 127.0.0.1:5432 (user postgres), creates a fresh database for this run and drops it at the
# end. Each test then creates (and drops) its own database next to it. Without a server the
# PostgreSQL half is skipped with a message, except under CI, where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_SERVER="${PG_SERVER:-postgres://postgres@127.0.0.1:5432}"
created=""
cleanup() {
  if [[ -n "$created" ]]; then
    psql "$PG_SERVER/postgres" -qAtc "DROP DATABASE IF EXISTS \"$created\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# A prerequisite is missing: under CI a failure ("CI is set but $1"), otherwise the note $2
# (what is skipped).
missing() {
  if [[ -n "${CI:-}" ]]; then
    echo "test.sh: CI is set but $1" >&2
    exit 1
  fi
  echo "test.sh: $2" >&2
}

if [[ -z "${TEST_POSTGRES_URL:-}" ]]; then
  if command -v psql >/dev/null && psql "$PG_SERVER/postgres" -qAtc 'SELECT 1' >/dev/null 2>&1; then
    created="tollgate_test_$(date +%s)_$$"
    psql "$PG_SERVER/postgres" -qAtc "CREATE DATABASE \"$created\"" >/dev/null
    export TEST_POSTGRES_URL="$PG_SERVER/$created"
    echo "test.sh: PostgreSQL tests use a fresh database: $created"
  else
    missing "no PostgreSQL answers at $PG_SERVER and TEST_POSTGRES_URL is unset" \
      "no PostgreSQL at $PG_SERVER and TEST_POSTGRES_URL unset: PostgreSQL tests are SKIPPED (SQLite only)"
  fi
else
  echo "test.sh: PostgreSQL tests use TEST_POSTGRES_URL"
fi

# The console's browser tests need Chromium and chromedriver (CHROMIUM / CHROMEDRIVER
# override the Debian paths). Without them those tests skip, except under CI (.ci/run
# installs them).
chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
chromedriver_bin="${CHROMEDRIVER:-/usr/bin/chromedriver}"
if [[ -x "$chromium_bin" && -x "$chromedriver_bin" ]]; then
  echo "test.sh: browser tests use $chromium_bin and $chromedriver_bin"
else
  missing "$chromium_bin or $chromedriver_bin is missing (apt-get install chromium chromium-driver)" \
    "$chromium_bin or $chromedriver_bin missing: browser tests are SKIPPED (apt-get install chromium chromium-driver)"
fi

# The accessibility check injects axe-core (from the npm registry, pinned in
# crates/tollgate/tests/browser-deps/package-lock.json) into each console page.
deps=crates/tollgate/tests/browser-deps
if [[ ! -f "$deps/node_modules/axe-core/axe.min.js" ]] && command -v npm >/dev/null; then
  echo "test.sh: installing axe-core for the accessibility check (npm ci)"
  npm ci --prefix "$deps" --no-audit --no-fund --loglevel=error >/dev/null
fi
if [[ -f "$deps/node_modules/axe-core/axe.min.js" ]]; then
  echo "test.sh: the accessibility check uses $deps/node_modules/axe-core"
else
  missing "axe-core is missing and npm is not installed (apt-get install npm)" \
    "axe-core missing (no npm): the accessibility check is SKIPPED"
fi

log=$(mktemp)
set +e
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit "$status"
