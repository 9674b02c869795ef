#!/usr/bin/env bash
# Runs every test: installs the tools the tests need if missing, then the whole Go
# suite with the race detector. Extra arguments go to `go test` (e.g. -run, -v).
set -euo pipefail
export GOTOOLCHAIN=go1.27.3  # the approved patched toolchain (see README)
cd "$(dirname "$0")/.."
./scripts/tools.sh
export PATH="$(go env GOPATH)/bin:$PATH"
go test -race -count=1 -timeout 15m "$@" ./...
