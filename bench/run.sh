#!/usr/bin/env bash
# Client-credentials tokens per second: coupa serve against npm oidc-provider (ES256 JWT access
# tokens, in memory), side by side in one run on this machine, alternating rounds.
# Prints each round and the ratio of the best rounds.
#
#   bench/run.sh                      # 3 rounds of 10 s each, 32 connections
#   ROUNDS=5 DURATION=20s bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
COUPA_PORT=${COUPA_PORT:-18181}
PEER_PORT=${PEER_PORT:-18182}
SCOPE="core.invoice.read core.expense.read"

ensure_tools wrk
npm ci --prefix bench/peer --no-audit --no-fund --silent
cargo build --release --locked -p coupa-cli

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

COUPA_ADMIN_TOKEN=$(random_admin_token)
export COUPA_ADMIN_TOKEN
COUPA_LOG=warn target/release/coupa serve --listen "127.0.0.1:$COUPA_PORT" \
  --database-url "sqlite://$work/bench.db" >"$work/coupa.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$COUPA_PORT/healthz"

client=$(target/release/coupa admin clients create --url "http://127.0.0.1:$COUPA_PORT" \
  --name bench --login bench --scope "$SCOPE" --output json)
client_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$client")
client_secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <<<"$client")

node bench/peer/server.mjs "$PEER_PORT" "$client_id" "$client_secret" "$SCOPE" >"$work/peer.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration"

export BENCH_BODY="client_id=$client_id&grant_type=client_credentials&scope=${SCOPE// /+}&client_secret=$client_secret"

# One wrk round against a token endpoint.
measure() {
  wrk_round -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/token.lua "$1"
}

# Sanity: both answer a token to the same form.
for url in "http://127.0.0.1:$COUPA_PORT/oauth2/token" "http://127.0.0.1:$PEER_PORT/token"; do
  curl -fsS -X POST -H "Content-Type: application/x-www-form-urlencoded" -d "$BENCH_BODY" "$url" \
    | grep -q '"access_token"' || { echo "no token from $url" >&2; exit 1; }
done

best_coupa=0
best_peer=0
echo "round  server         tokens/s   p50       p99"
for round in $(seq 1 "$ROUNDS"); do
  read -r rate p50 p99 < <(measure "http://127.0.0.1:$COUPA_PORT/oauth2/token")
  printf "%-6s %-14s %-10s %-9s %s\n" "$round" "coupa" "$rate" "$p50" "$p99"
  best_coupa=$(python3 -c "print(max($best_coupa, $rate))")
  read -r rate p50 p99 < <(measure "http://127.0.0.1:$PEER_PORT/token")
  printf "%-6s %-14s %-10s %-9s %s\n" "$round" "oidc-provider" "$rate" "$p50" "$p99"
  best_peer=$(python3 -c "print(max($best_peer, $rate))")
done
ratio=$(python3 -c "print(f'{$best_coupa / $best_peer:.1f}')")
echo
echo "best: coupa $best_coupa tokens/s, oidc-provider $best_peer tokens/s, ratio ${ratio}x"
