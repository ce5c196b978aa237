# Shared by the bench scripts (sourced).

# Installs the Debian packages of the tools named that are missing.
ensure_tools() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if ((${#missing[@]})); then apt-get update -qq && apt-get install -y -qq "${missing[@]}"; fi
}

# Waits up to 10 s for URL to answer 2xx.
wait_for() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  exit 1
}

# A fresh admin token long enough for coupa serve.
random_admin_token() {
  echo "bench-admin-token-$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")"
}

# One wrk run with the arguments given (plus --latency); prints "requests/s p50 p99", and
# fails on any non-2xx answer. $WRK, when set, is the command that runs wrk.
wrk_round() {
  local out
  # shellcheck disable=SC2086 # $WRK may carry a prefix such as taskset
  out=$(${WRK:-wrk} --latency "$@")
  if grep -q "Non-2xx" <<<"$out"; then
    echo "$out" >&2
    exit 1
  fi
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1 == "50%" {print $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out")"
}
