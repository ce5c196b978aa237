#!/usr/bin/env bash
# Two figures for the /api engine, on this machine, in one run:
#  1. what authentication costs: GET /api/invoices?limit=50 (JSON) with a bearer token, against
#     the same list served without authentication (/bench/api, a benchmark-only route), in
#     alternating wrk rounds;
#  2. paging latency on 100,000 invoices (one line each) for SQLite and PostgreSQL, at offsets
#     0, 50,000 and 99,950, with and without a filter.
#
#   bench/api.sh                    # ROUNDS=3 DURATION=10s
#   PG_URL=postgres://postgres@127.0.0.1:5432/test bench/api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18191}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
URL="http://127.0.0.1:$PORT"

ensure_tools wrk sqlite3 jq
cargo build --release --locked -p coupa-cli --features bench-routes

work=$(mktemp -d)
server=""
stop_server() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi
}
trap 'stop_server; rm -rf "$work"' EXIT
COUPA_ADMIN_TOKEN=$(random_admin_token)
export COUPA_ADMIN_TOKEN

start_server() {
  COUPA_LOG=warn target/release/coupa serve --listen "127.0.0.1:$PORT" --database-url "$1" --demo \
    --rate-limit 0 --unauthenticated-api-for-benchmarks >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null && return 0; sleep 0.1; done
  cat "$work/serve.log" >&2
  exit 1
}

token() {
  local client
  client=$(target/release/coupa admin clients create --url "$URL" --name "bench $RANDOM" --login "bench-$RANDOM$RANDOM" \
    --scope core.invoice.read --output json)
  curl -fsS -X POST -H "Content-Type: application/x-www-form-urlencoded" \
    -d "grant_type=client_credentials&client_id=$(jq -r .client_id <<<"$client")&client_secret=$(jq -r .client_secret <<<"$client")" \
    "$URL/oauth2/token" | jq -r .access_token
}

# wrk once: CONNECTIONS DURATION then wrk's other arguments.
measure() {
  wrk_round -t1 -c"$1" -d"$2" "${@:3}"
}

echo "== 1. authentication cost (SQLite, demo data, limit=50, JSON)"
start_server "sqlite://$work/auth.db"
bearer=$(token)
best_auth=0
best_open=0
echo "round  route          req/s      p50       p99"
for round in $(seq 1 "$ROUNDS"); do
  read -r rate p50 p99 < <(measure "$CONNECTIONS" "$DURATION" -H "Accept: application/json" -H "Authorization: Bearer $bearer" "$URL/api/invoices?limit=50")
  printf "%-6s %-14s %-10s %-9s %s\n" "$round" "bearer" "$rate" "$p50" "$p99"
  best_auth=$(python3 -c "print(max($best_auth, $rate))")
  read -r rate p50 p99 < <(measure "$CONNECTIONS" "$DURATION" -H "Accept: application/json" "$URL/bench/api/invoices?limit=50")
  printf "%-6s %-14s %-10s %-9s %s\n" "$round" "no auth" "$rate" "$p50" "$p99"
  best_open=$(python3 -c "print(max($best_open, $rate))")
done
python3 -c "print(f'best: bearer {$best_auth} req/s, no auth {$best_open} req/s, authentication costs {(1 - $best_auth / $best_open) * 100:.1f}%')"
stop_server

# 100,000 invoices with one line each, written straight into the engine's tables.
load_sqlite() {
  sqlite3 "$1" <<'SQL'
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO api_invoices (created_at, updated_at, created_by, updated_by, invoice_number, invoice_date, status, gross_total, exported, supplier_id, currency_id)
SELECT 1767603600 + i * 60, 1767603600 + i * 60, 'bench', 'bench', printf('BENCH-%06d', i), 1767603600 + i * 60,
       CASE i % 4 WHEN 0 THEN 'approved' WHEN 1 THEN 'draft' WHEN 2 THEN 'pending_approval' ELSE 'voided' END,
       (i % 1000) + 0.5, i % 2, (i % 10) + 1, 1 FROM n;
INSERT INTO api_invoice_lines (created_at, updated_at, created_by, updated_by, invoice_id, line_num, description, quantity, price, total, account_id)
SELECT created_at, updated_at, 'bench', 'bench', id, 1, 'Paper', 2, 1.25, 2.5, 1 FROM api_invoices WHERE invoice_number LIKE 'BENCH-%';
ANALYZE;
SQL
}

load_postgres() {
  psql -q "$PG_URL" <<SQL
SET search_path TO coupa_bench;
INSERT INTO api_invoices (created_at, updated_at, created_by, updated_by, invoice_number, invoice_date, status, gross_total, exported, supplier_id, currency_id)
SELECT 1767603600 + i * 60, 1767603600 + i * 60, 'bench', 'bench', 'BENCH-' || lpad(i::text, 6, '0'), 1767603600 + i * 60,
       (ARRAY['draft', 'pending_approval', 'voided', 'approved'])[i % 4 + 1], (i % 1000) + 0.5, i % 2 = 1, (i % 10) + 1, 1
FROM generate_series(1, 100000) AS i;
INSERT INTO api_invoice_lines (created_at, updated_at, created_by, updated_by, invoice_id, line_num, description, quantity, price, total, account_id)
SELECT created_at, updated_at, 'bench', 'bench', id, 1, 'Paper', 2, 1.25, 2.5, 1 FROM api_invoices WHERE invoice_number LIKE 'BENCH-%';
ANALYZE;
SQL
}

paging() {
  local store=$1 url=$2
  start_server "$url"
  local bearer
  bearer=$(token)
  for query in "offset=0" "offset=50000" "offset=99950" "status=approved&offset=0" "status=approved&offset=24950" "supplier%5Bname%5D%5Bcontains%5D=acme&offset=5000"; do
    read -r rate p50 p99 < <(measure 1 5s -H "Accept: application/json" -H "Authorization: Bearer $bearer" "$URL/api/invoices?limit=50&$query")
    printf "%-9s %-52s %-10s %-9s %s\n" "$store" "$query" "$rate" "$p50" "$p99"
  done
  stop_server
}

[ -n "${AUTH_ONLY:-}" ] && exit 0
echo
echo "== 2. paging latency on 100,000 invoices (one connection, limit=50, JSON)"
echo "store     query                                                req/s      p50       p99"
start_server "sqlite://$work/paging.db"; stop_server
load_sqlite "$work/paging.db"
paging sqlite "sqlite://$work/paging.db"

if psql -q "$PG_URL" -c "DROP SCHEMA IF EXISTS coupa_bench CASCADE; CREATE SCHEMA coupa_bench" 2>/dev/null; then
  pg_url="$PG_URL?options=-c%20search_path%3Dcoupa_bench"
  start_server "$pg_url"; stop_server
  load_postgres
  paging postgres "$pg_url"
  psql -q "$PG_URL" -c "DROP SCHEMA coupa_bench CASCADE"
else
  echo "postgres  skipped: no PostgreSQL at $PG_URL"
fi
