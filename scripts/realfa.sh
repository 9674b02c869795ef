#!/usr/bin/env bash
# The real-FusionAuth suite (issue 17) on a machine with Docker: the same tests .ci/run
# runs, pointed by environment variables at the docker compose FusionAuth (1.69.x,
# PostgreSQL, OpenSearch, Mailpit) instead of the in-memory one. The GitHub workflow
# .github/workflows/real-fusionauth.yml runs the same phases.
#
# Usage: scripts/realfa.sh [phase …]     phases, in this order by default:
#   up        docker compose up --wait, then wait until Kickstart has finished
#   contract  the FusionAuth contract suite (shared/contract) against it
#   local     the local stack (cmd/local with FUSIONAUTH_URL) against it, with the HTTP
#             flow (e2e/flow) and the browser journey (e2e/browser) through it
#   sam       the SAM CLI: validate --lint, build, local invoke of each function with its
#             event fixtures, local start-api with the browser journey (scripts/samlocal.sh);
#             skipped with a message when `sam` is not installed, except under CI=true
#   down      docker compose down -v (not in the default run: the stack stays up for a
#             second look; Kickstart runs only on an empty database, so reset with this
#             after changing kickstart/)
#
# Logs and screenshots go to $ARTIFACTS_DIR (default artifacts/).
set -euo pipefail
export GOTOOLCHAIN=go1.27.3  # the approved patched toolchain (see README)
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"
source scripts/lib.sh

export FUSIONAUTH_URL="${FUSIONAUTH_URL:-http://localhost:9011}"
export MAILPIT_URL="${MAILPIT_URL:-http://localhost:8025}"
app_url="${APP_URL:-http://localhost:3000}"
export ARTIFACTS_DIR="${ARTIFACTS_DIR:-$PWD/artifacts}"
logs="$ARTIFACTS_DIR/realfa"
mkdir -p "$logs"

# The kickstart's dev keys (kickstart/kickstart.json, all marked not-for-prod).
export FUSIONAUTH_API_KEY="${FUSIONAUTH_API_KEY:-$(kickstart_var apiKey)}"
export FUSIONAUTH_LIMITED_API_KEY="${FUSIONAUTH_LIMITED_API_KEY:-$(kickstart_var videoApiKey)}"
export FUSIONAUTH_PRUNE_API_KEY="${FUSIONAUTH_PRUNE_API_KEY:-$(kickstart_var pruneApiKey)}"
export FUSIONAUTH_WEBHOOK_API_KEY="${FUSIONAUTH_WEBHOOK_API_KEY:-$(kickstart_var webhookApiKey)}"

phase_up() {
  require_docker
  echo "== docker compose up --wait"
  docker compose up --detach --wait --wait-timeout 600
  # Kickstart runs after FusionAuth answers /api/status, so a healthy container is not
  # enough. Its unrestricted key exists once Kickstart has started, and it runs its
  # requests in order: wait until the key reads the application and then the object the
  # last request creates.
  local app last
  app="$(kickstart_var applicationId)"
  last="$(last_kickstart_url)"
  wait_until "Kickstart's application (the API key works)" 300 \
    curl -fsS -o /dev/null -H "Authorization: $FUSIONAUTH_API_KEY" "$FUSIONAUTH_URL/api/application/$app"
  wait_until "Kickstart's last request ($last)" 120 \
    curl -fsS -o /dev/null -H "Authorization: $FUSIONAUTH_API_KEY" "$FUSIONAUTH_URL$last"
  wait_until "Mailpit's API" 60 curl -fsS -o /dev/null "$MAILPIT_URL/api/v1/info"
}

phase_contract() {
  echo "== contract suite against $FUSIONAUTH_URL"
  run_tests "$logs/contract.log" go test -count=1 -v ./shared/contract/
}

phase_local() {
  local bin="$logs/local" pid status=0
  go build -o "$bin" ./cmd/local
  echo "== local stack against $FUSIONAUTH_URL on $app_url"
  # 0.0.0.0: FusionAuth's webhook comes from its container through host.docker.internal.
  "$bin" -addr 0.0.0.0:3000 -prune-every 0 >"$logs/local.log" 2>&1 &
  pid=$!
  wait_until "the local stack" 60 curl -fsS -o /dev/null "$app_url/video" || status=1
  if [ "$status" = 0 ]; then
    APP_URL="$app_url" run_tests "$logs/local-e2e.log" go test -count=1 -v ./e2e/flow/ ./e2e/browser/ || status=1
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$status" != 0 ]; then echo "realfa: the local stack's log: $logs/local.log" >&2; exit 1; fi
}

phase_sam() {
  if ! command -v sam >/dev/null 2>&1; then
    if [ "${CI:-}" = true ]; then echo "realfa: the AWS SAM CLI is not installed" >&2; exit 1; fi
    echo "== sam: skipped, the AWS SAM CLI is not installed"
    return
  fi
  APP_URL="$app_url" ./scripts/samlocal.sh
}

phase_down() {
  require_docker
  docker compose down -v
}

phases=("$@")
[ "${#phases[@]}" -gt 0 ] || phases=(up contract local sam)
for p in "${phases[@]}"; do
  case "$p" in
    up|contract|local|sam|down) "phase_$p" ;;
    *) echo "realfa: unknown phase $p (want up, contract, local, sam or down)" >&2; exit 2 ;;
  esac
done
echo "realfa: ${phases[*]}: passed"
