#!/usr/bin/env bash
# Two figures for the /api engine, on this machine, in one run:
#  1. what authentication costs: GET /api/invoices?limit=50 (JSON) with a bearer token, against
#     the same list served without authentication (/bench/api, a benchmark-only route), in
#     alternating wrk rounds;
#  2. the same list against a floor (bench/floor): the same rows of the same database read with
#     bare sqlx queries and written with serde_json, in alternating wrk rounds;
#  3. paging latency on 100,000 invoices written by `coupa demo --size 100000` (one to three
#     lines each) for SQLite and PostgreSQL, at offsets 0, 50,000 and 99,950, with and without
#     a filter.
#
#   bench/api.sh                    # ROUNDS=3 DURATION=10s
#   AUTH_ONLY=1 bench/api.sh        # part 1 only;  FLOOR_ONLY=1: part 2 only;  PAGING_ONLY=1: part 3 only
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
# One build of both, so that they share their dependencies' features.
cargo build --release --locked -p coupa-cli -p coupa-bench-floor --features coupa-cli/bench-routes
FLOOR_PORT=${FLOOR_PORT:-18192}

work=$(mktemp -d)
server=""
floor=""
stop_server() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi
  if [ -n "$floor" ]; then kill "$floor" 2>/dev/null || true; wait "$floor" 2>/dev/null || true; floor=""; fi
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

if [ -z "${FLOOR_ONLY:-}${PAGING_ONLY:-}" ]; then
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
fi

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
if [ -z "${PAGING_ONLY:-}" ]; then
echo
echo "== 2. the API list against a floor (SQLite, demo data, limit=50, JSON)"
start_server "sqlite://$work/floor.db"
bearer=$(token)
target/release/coupa-bench-floor "sqlite://$work/floor.db" "127.0.0.1:$FLOOR_PORT" >"$work/floor.log" 2>&1 &
floor=$!
wait_for "http://127.0.0.1:$FLOOR_PORT/invoices?limit=1"
echo "round  program        req/s      p50       p99"
rates_api=()
rates_floor=()
for round in $(seq 1 "$ROUNDS"); do
  read -r rate p50 p99 < <(measure "$CONNECTIONS" "$DURATION" -H "Accept: application/json" -H "Authorization: Bearer $bearer" "$URL/api/invoices?limit=50")
  printf "%-6s %-14s %-10s %-9s %s\n" "$round" "coupa serve" "$rate" "$p50" "$p99"
  rates_api+=("$rate")
  read -r rate p50 p99 < <(measure "$CONNECTIONS" "$DURATION" "http://127.0.0.1:$FLOOR_PORT/invoices?limit=50")
  printf "%-6s %-14s %-10s %-9s %s\n" "$round" "floor" "$rate" "$p50" "$p99"
  rates_floor+=("$rate")
done
python3 - "${rates_api[*]}" "${rates_floor[*]}" <<'PY'
import statistics, sys
api = [float(x) for x in sys.argv[1].split()]
floor = [float(x) for x in sys.argv[2].split()]
ratios = [a / f for a, f in zip(api, floor)]
print(f"coupa serve / floor: median of rounds {statistics.median(ratios):.2f}, best {max(api) / max(floor):.2f} (target: at least 0.5)")
PY
echo "answer sizes: coupa serve $(curl -fsS -H 'Accept: application/json' -H "Authorization: Bearer $bearer" "$URL/api/invoices?limit=50" | wc -c) bytes, floor $(curl -fsS "http://127.0.0.1:$FLOOR_PORT/invoices?limit=50" | wc -c) bytes"
stop_server
fi
[ -n "${FLOOR_ONLY:-}" ] && exit 0
echo
echo "== 3. paging latency on 100,000 invoices of coupa demo --size (one connection, limit=50, JSON)"
echo "store     query                                                req/s      p50       p99"
export COUPA_KEY_ENCRYPTION_KEY=${COUPA_KEY_ENCRYPTION_KEY:-$(head -c 32 /dev/urandom | base64)}
target/release/coupa demo --size 100000 --database-url "sqlite://$work/paging.db" >/dev/null
paging sqlite "sqlite://$work/paging.db"

if psql -q "$PG_URL" -c "DROP SCHEMA IF EXISTS coupa_bench CASCADE; CREATE SCHEMA coupa_bench" 2>/dev/null; then
  pg_url="$PG_URL?options=-c%20search_path%3Dcoupa_bench"
  target/release/coupa demo --size 100000 --database-url "$pg_url" >/dev/null
  paging postgres "$pg_url"
  psql -q "$PG_URL" -c "DROP SCHEMA coupa_bench CASCADE"
else
  echo "postgres  skipped: no PostgreSQL at $PG_URL"
fi
