#!/usr/bin/env bash
# Instructions per client-credentials token request, counted by valgrind (callgrind) for an
# earlier build and this one: repeatable whatever else the machine is doing, unlike
# tokens/s on a shared VM. Each build serves N and then 3N requests in two runs under
# callgrind; the difference over 2N requests is the cost of one request, start-up excluded.
#
#   BASELINE=/path/to/old/coupa bench/instructions.sh
#   BASELINE=... CANDIDATE=target/release/coupa REQUESTS=1000 bench/instructions.sh
#   BASELINE=target/release/coupa BASELINE_LOG=warn CANDIDATE_LOG=info \
#     CANDIDATE_ARGS="--metrics-listen 127.0.0.1:19100" bench/instructions.sh
#     # one build against itself: what the access log and the metrics cost (default log: warn)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

: "${BASELINE:?set BASELINE to the coupa binary to compare with}"
CANDIDATE=${CANDIDATE:-target/release/coupa}
REQUESTS=${REQUESTS:-1000}
SCOPE="core.invoice.read core.expense.read"
ensure_tools valgrind

work=$(mktemp -d)
server=""
stop_server() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT
COUPA_ADMIN_TOKEN=$(random_admin_token)
export COUPA_ADMIN_TOKEN

# Sends COUNT token requests with BODY over one kept-alive connection to PORT.
send_requests() {
  python3 - "$1" "$2" "$3" <<'PY'
import http.client, sys
port, count, body = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
connection = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(count):
    connection.request("POST", "/oauth2/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
    answer = connection.getresponse()
    answer.read()
    if answer.status != 200:
        sys.exit(f"token request answered {answer.status}")
PY
}

# Instructions of one run of BINARY on DATABASE serving COUNT token requests, with log
# filter FILTER and extra serve flags EXTRA.
count_run() {
  local binary=$1 database=$2 body=$3 count=$4 filter=$5 extra=$6 out
  out="$work/callgrind.$RANDOM"
  # shellcheck disable=SC2086 # extra flags are split on purpose
  COUPA_LOG=$filter valgrind --tool=callgrind --callgrind-out-file="$out" "$binary" serve \
    --listen 127.0.0.1:18195 --database-url "$database" $extra >"$work/valgrind.log" 2>&1 &
  server=$!
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null http://127.0.0.1:18195/healthz 2>/dev/null && break
    sleep 0.1
  done
  send_requests 18195 "$count" "$body"
  stop_server
  awk '/^summary:/ {print $2}' "$out"
}

per_request() {
  local binary=$1 name=$2 filter=$3 extra=$4 database client id secret body low high
  database="sqlite://$work/$name.db"
  # A first run, not counted, creates the database, its keys and a client.
  COUPA_LOG=warn "$binary" serve --listen 127.0.0.1:18195 --database-url "$database" >"$work/$name.log" 2>&1 &
  server=$!
  wait_for http://127.0.0.1:18195/healthz
  client=$("$binary" admin clients create --url http://127.0.0.1:18195 --name bench --login bench \
    --scope "$SCOPE" --output json)
  stop_server
  id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$client")
  secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <<<"$client")
  body="client_id=$id&grant_type=client_credentials&scope=${SCOPE// /+}&client_secret=$secret"
  low=$(count_run "$binary" "$database" "$body" "$REQUESTS" "$filter" "$extra")
  high=$(count_run "$binary" "$database" "$body" $((REQUESTS * 3)) "$filter" "$extra")
  echo $(((high - low) / (REQUESTS * 2)))
}

baseline=$(per_request "$BASELINE" baseline "${BASELINE_LOG:-warn}" "${BASELINE_ARGS:-}")
candidate=$(per_request "$CANDIDATE" candidate "${CANDIDATE_LOG:-warn}" "${CANDIDATE_ARGS:-}")
echo "instructions per token request: baseline $baseline, candidate $candidate"
python3 -c "print(f'ratio (candidate / baseline): {$candidate / $baseline:.3f}')"
