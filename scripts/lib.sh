# Shell helpers for scripts/realfa.sh and scripts/samlocal.sh (sourced, not run).

# require_docker fails with a clear message unless Docker and its daemon are available.
require_docker() {
  if ! command -v docker >/dev/null 2>&1; then
    echo "$(basename "$0"): needs Docker (docker compose) and there is no docker command on this machine;" \
      "the real-FusionAuth suite runs on a machine with Docker or in the GitHub workflow" >&2
    exit 2
  fi
  if ! docker info >/dev/null 2>&1; then
    echo "$(basename "$0"): needs a running Docker daemon and \`docker info\` cannot reach one" >&2
    exit 2
  fi
}

# wait_until DESCRIPTION SECONDS COMMAND…: runs COMMAND every 2 s until it succeeds;
# fails after SECONDS.
wait_until() {
  local what="$1" limit="$2" start=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - start >= limit )); then
      echo "$(basename "$0"): waited ${limit}s for $what: not ready" >&2
      return 1
    fi
    sleep 2
  done
  echo "   ready after $((SECONDS - start))s: $what"
}

# kickstart_var NAME prints a fixed variable of kickstart/kickstart.json.
kickstart_var() {
  local v
  v="$(sed -n "s/^ *\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" kickstart/kickstart.json | head -n 1)"
  if [ -z "$v" ]; then echo "kickstart/kickstart.json has no variable $1" >&2; return 1; fi
  printf '%s' "$v"
}

# run_tests LOG COMMAND…: runs a go test command, shows and saves its output, and
# returns its status.
run_tests() {
  local log="$1" status
  shift
  set +e
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" != 0 ]; then echo "$(basename "$0"): tests failed (log: $log)" >&2; fi
  return "$status"
}

# last_kickstart_url prints the URL of kickstart/kickstart.json's last request with its
# #{variables} filled in: once that object exists, Kickstart has finished.
last_kickstart_url() {
  local url var
  url="$(grep -o '"url": *"[^"]*"' kickstart/kickstart.json | tail -n 1 | sed 's/.*"url": *"\([^"]*\)"/\1/')"
  while [[ "$url" =~ \#\{([A-Za-z0-9_]+)\} ]]; do
    var="${BASH_REMATCH[1]}"
    url="${url//"#{$var}"/$(kickstart_var "$var")}"
  done
  printf '%s' "$url"
}
