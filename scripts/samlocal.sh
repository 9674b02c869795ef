#!/usr/bin/env bash
# The SAM CLI against the docker compose FusionAuth (issue 17), as the design card means
# it: `sam validate --lint`, `sam build`, `sam local invoke` of each function with each
# event fixture in functions/<name>/testdata/, then `sam local start-api` with the browser
# journey (e2e/browser) through it. scripts/realfa.sh runs it after `up`; it needs Docker,
# the SAM CLI and the compose stack running.
#
# What SAM cannot do locally is supplied by scripts/samlocal (see its doc): a Secrets
# Manager stand-in holding the kickstart's API keys (the functions read their key from
# Secrets Manager), and POST /webhook served as a function URL through `sam local
# start-lambda` (sam local does not emulate function URLs; FusionAuth's webhook needs it).
# The functions reach FusionAuth and the stand-in through host.docker.internal.
#
# Usage: scripts/samlocal.sh
set -euo pipefail
export GOTOOLCHAIN=go1.27.3  # the approved patched toolchain (see README)
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"
source scripts/lib.sh

require_docker
command -v sam >/dev/null 2>&1 || { echo "samlocal.sh: needs the AWS SAM CLI (sam)" >&2; exit 2; }
app_url="${APP_URL:-http://localhost:3000}"
export ARTIFACTS_DIR="${ARTIFACTS_DIR:-$PWD/artifacts}"
logs="$ARTIFACTS_DIR/sam"
mkdir -p "$logs"
# sam local passes the host's AWS credentials and region into the containers; the
# stand-in checks the functions' SigV4 signatures against its own fixed credentials.
eval "$(go run ./scripts/samlocal credentials)"
unset AWS_SESSION_TOKEN AWS_PROFILE
export SAM_CLI_TELEMETRY=0

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -f template.ci.yaml
}
trap cleanup EXIT

echo "== sam validate --lint"
sam validate --lint --template template.yaml

echo "== sam build"
env_vars="$logs/env-vars.json"
go run ./scripts/samlocal prepare -template template.ci.yaml -env-vars "$env_vars"
CGO_ENABLED=0 GOFLAGS=-tags=lambda.norpc sam build --template template.ci.yaml 2>&1 | tee "$logs/build.log"

go build -o "$logs/samlocal" ./scripts/samlocal
"$logs/samlocal" serve -addr 0.0.0.0:3000 -api http://127.0.0.1:3002 -lambda http://127.0.0.1:3001 -secrets-addr 0.0.0.0:4566 -dynamodb-addr 0.0.0.0:4567 \
  >"$logs/samlocal.log" 2>&1 &
pids+=($!)
local_flags=(--env-vars "$env_vars" --add-host host.docker.internal:host-gateway)

echo "== sam local invoke"
shopt -s nullglob
for fn in video register webhook prune; do
  id="$(tr '[:lower:]' '[:upper:]' <<<"${fn:0:1}")${fn:1}Function"
  events=(functions/"$fn"/testdata/*.json)
  if [ "${#events[@]}" = 0 ]; then echo "samlocal.sh: no event fixtures in functions/$fn/testdata/" >&2; exit 1; fi
  for ev in "${events[@]}"; do
    name="$fn-$(basename "$ev" .json)"
    if ! sam local invoke "$id" --event "$ev" "${local_flags[@]}" >"$logs/invoke-$name.json" 2>"$logs/invoke-$name.log"; then
      tail -n 30 "$logs/invoke-$name.log"
      echo "samlocal.sh: sam local invoke $id -e $ev failed" >&2
      exit 1
    fi
    # A function error (cold-start failure, panic) comes back as {"errorMessage", "errorType"}.
    if grep -q '"errorMessage"' "$logs/invoke-$name.json" || ! grep -q '[{]' "$logs/invoke-$name.json"; then
      cat "$logs/invoke-$name.json"; tail -n 30 "$logs/invoke-$name.log"
      echo "samlocal.sh: $id with $ev answered an error, want a response" >&2
      exit 1
    fi
    echo "   $id $(basename "$ev"): $(head -c 160 "$logs/invoke-$name.json")"
  done
done

echo "== sam local start-api with the browser journey"
sam local start-lambda --port 3001 --warm-containers EAGER "${local_flags[@]}" >"$logs/start-lambda.log" 2>&1 &
pids+=($!)
sam local start-api --port 3002 --warm-containers EAGER "${local_flags[@]}" >"$logs/start-api.log" 2>&1 &
pids+=($!)
wait_until "sam local start-api" 300 curl -fsS -o /dev/null http://127.0.0.1:3002/video
wait_until "sam local start-lambda" 120 curl -sS -o /dev/null http://127.0.0.1:3001/
APP_URL="$app_url" run_tests "$logs/browser.log" go test -count=1 -v -run TestJourney ./e2e/browser/
