#!/usr/bin/env bash
# This build against an earlier build of coupa, side by side in one run on this machine,
# alternating rounds: what a change costs the token path (MODE=token, client-credentials
# tokens per second) or the API (MODE=api, GET /api/invoices?limit=50 as JSON with a bearer
# token, on the demo data, rate limit off).
#
#   BASELINE=/path/to/old/coupa bench/baseline.sh
#   BASELINE=... CANDIDATE=target/release/coupa ROUNDS=5 DURATION=10s MODE=api bench/baseline.sh
#   LOG_FILTER=info BASELINE=... bench/baseline.sh   # with the access log on (default: warn)
#   BASELINE=target/release/coupa BASELINE_LOG=warn CANDIDATE_LOG=info bench/baseline.sh
#     # one build against itself, each server with its own log filter (what logging costs)
#   CANDIDATE_ARGS="--metrics-listen 127.0.0.1:19100" ...   # extra serve flags for the candidate
#   PIN=1 ...   # servers on the last CPU, wrk on the others: each round measures what one core
#               # of server does, without the load generator taking its time
#
# Build the baseline from an earlier commit, e.g.
#   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release -p coupa-cli)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

: "${BASELINE:?set BASELINE to the coupa binary to compare with}"
CANDIDATE=${CANDIDATE:-target/release/coupa}
ROUNDS=${ROUNDS:-10}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
MODE=${MODE:-token}
serve_args=()
[[ $MODE == api ]] && serve_args=(--demo --rate-limit 0)
SCOPE="core.invoice.read core.expense.read"

ensure_tools wrk
server_cpus=""
if [[ ${PIN:-0} == 1 ]]; then
  last=$(($(nproc) - 1))
  ((last > 0)) || { echo "PIN=1 needs two CPUs or more" >&2; exit 1; }
  server_cpus="taskset -c $last"
  WRK="taskset -c 0-$((last - 1)) wrk"
fi
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

# Starts one server (in this shell, so that cleanup stops it).
start() {
  local binary=$1 port=$2 name=$3 filter=$4 extra=$5
  mkdir -p "$work/$name"
  # shellcheck disable=SC2086 # extra flags are split on purpose
  COUPA_LOG=$filter $server_cpus "$binary" serve --listen "127.0.0.1:$port" \
    --database-url "sqlite://$work/$name/bench.db" "${serve_args[@]}" $extra >"$work/$name/log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/healthz"
}

# The form body of a token request for a fresh client of the server on PORT.
token_body() {
  local binary=$1 port=$2 client id secret
  client=$("$binary" admin clients create --url "http://127.0.0.1:$port" \
    --name bench --login bench --scope "$SCOPE" --output json)
  id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$client")
  secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <<<"$client")
  echo "client_id=$id&grant_type=client_credentials&scope=${SCOPE// /+}&client_secret=$secret"
}

start "$BASELINE" 18191 baseline "${BASELINE_LOG:-${LOG_FILTER:-warn}}" "${BASELINE_ARGS:-}"
start "$CANDIDATE" 18192 candidate "${CANDIDATE_LOG:-${LOG_FILTER:-warn}}" "${CANDIDATE_ARGS:-}"
baseline_body=$(token_body "$BASELINE" 18191)
candidate_body=$(token_body "$CANDIDATE" 18192)

# An access token of the client whose token request body is BODY, from the server on PORT.
bearer() {
  curl -fsS -d "$2" "http://127.0.0.1:$1/oauth2/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

if [[ $MODE == api ]]; then
  baseline_body=$(bearer 18191 "$baseline_body")
  candidate_body=$(bearer 18192 "$candidate_body")
fi

# One round against the server on PORT with BODY (token mode) or bearer token (api mode).
measure() {
  if [[ $MODE == api ]]; then
    wrk_round -t1 -c"$CONNECTIONS" -d"$DURATION" -H "Authorization: Bearer $2" \
      -H "Accept: application/json" "http://127.0.0.1:$1/api/invoices?limit=50"
  else
    export BENCH_BODY=$2
    wrk_round -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/token.lua \
      "http://127.0.0.1:$1/oauth2/token"
  fi
}

baseline_rates=()
candidate_rates=()
echo "round  build      per s      p50       p99"
for round in $(seq 1 "$ROUNDS"); do
  read -r rate p50 p99 < <(measure 18191 "$baseline_body")
  printf "%-6s %-10s %-10s %-9s %s\n" "$round" "baseline" "$rate" "$p50" "$p99"
  baseline_rates+=("$rate")
  read -r rate p50 p99 < <(measure 18192 "$candidate_body")
  printf "%-6s %-10s %-10s %-9s %s\n" "$round" "candidate" "$rate" "$p50" "$p99"
  candidate_rates+=("$rate")
done
echo
python3 - "${baseline_rates[*]}" "${candidate_rates[*]}" <<'PY'
import statistics, sys
baseline = [float(x) for x in sys.argv[1].split()]
candidate = [float(x) for x in sys.argv[2].split()]
print(f"median: candidate {statistics.median(candidate):.0f}/s, baseline {statistics.median(baseline):.0f}, "
      f"ratio {statistics.median(candidate) / statistics.median(baseline):.3f}")
print(f"best:   candidate {max(candidate):.0f}/s, baseline {max(baseline):.0f}, ratio {max(candidate) / max(baseline):.3f}")
PY
