#!/usr/bin/env bash
# Client-credentials tokens per second of this build against an earlier build of coupa, side by
# side in one run on this machine, alternating rounds: what a change costs the token path.
#
#   BASELINE=/path/to/old/coupa bench/baseline.sh
#   BASELINE=... CANDIDATE=target/release/coupa ROUNDS=5 DURATION=10s bench/baseline.sh
#
# Build the baseline from an earlier commit, e.g.
#   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release -p coupa-cli)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

: "${BASELINE:?set BASELINE to the coupa binary to compare with}"
CANDIDATE=${CANDIDATE:-target/release/coupa}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
SCOPE="core.invoice.read core.expense.read"

ensure_tools wrk
[[ -x $CANDIDATE ]] || cargo build --release --locked -p coupa-cli

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

COUPA_ADMIN_TOKEN=$(random_admin_token)
export COUPA_ADMIN_TOKEN

# Starts one server and prints the form body of a token request for a fresh client.
start() {
  local binary=$1 port=$2 name=$3
  mkdir -p "$work/$name"
  COUPA_LOG=warn "$binary" serve --listen "127.0.0.1:$port" \
    --database-url "sqlite://$work/$name/bench.db" >"$work/$name/log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/healthz" >&2
  local client
  client=$("$binary" admin clients create --url "http://127.0.0.1:$port" \
    --name bench --login bench --scope "$SCOPE" --output json)
  python3 -c 'import json,sys; c=json.load(sys.stdin); print(f"client_id={c[\"client_id\"]}&grant_type=client_credentials&scope='"${SCOPE// /+}"'&client_secret={c[\"client_secret\"]}")' <<<"$client"
}

baseline_body=$(start "$BASELINE" 18191 baseline)
candidate_body=$(start "$CANDIDATE" 18192 candidate)

measure() {
  BENCH_BODY=$2 wrk_round -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/token.lua \
    "http://127.0.0.1:$1/oauth2/token"
}

best_baseline=0
best_candidate=0
echo "round  build      tokens/s   p50       p99"
for round in $(seq 1 "$ROUNDS"); do
  read -r rate p50 p99 < <(measure 18191 "$baseline_body")
  printf "%-6s %-10s %-10s %-9s %s\n" "$round" "baseline" "$rate" "$p50" "$p99"
  best_baseline=$(python3 -c "print(max($best_baseline, $rate))")
  read -r rate p50 p99 < <(measure 18192 "$candidate_body")
  printf "%-6s %-10s %-10s %-9s %s\n" "$round" "candidate" "$rate" "$p50" "$p99"
  best_candidate=$(python3 -c "print(max($best_candidate, $rate))")
done
ratio=$(python3 -c "print(f'{$best_candidate / $best_baseline:.3f}')")
echo
echo "best: candidate $best_candidate tokens/s, baseline $best_baseline tokens/s, ratio ${ratio}"
