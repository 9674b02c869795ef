#!/usr/bin/env bash
# Cold-start benchmark of the Lambda bootstraps under the AWS Lambda Runtime Interface
# Emulator (not a test). Builds the four functions and a hello-world baseline with the
# deployment's flags, prints their sizes (host arch and arm64), then starts each one N
# times and reports min/median/max ms from emulator start to the first successful invoke
# response, plus the median warm invoke. Needs aws-lambda-rie (scripts/tools.sh installs
# it). The work is done by scripts/coldstart/main.go; see its comment for the details.
#
# Usage: scripts/coldstart.sh [-n 10] [-only video,hello] [-arm64=false] [-v]
set -euo pipefail
export GOTOOLCHAIN=go1.27.3  # the approved patched toolchain (see README)
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"
exec go run ./scripts/coldstart "$@"
