#!/usr/bin/env bash
# Installs what the tests need on a fresh machine: Chromium (Debian package) for the
# browser test, the AWS Lambda Runtime Interface Emulator for the bootstrap test and
# Mailpit for the test of reading the set-password email from a mail catcher (e2e/flow),
# and FusionAuth's official TypeScript client for shared/contract's
# TestOfficialTypeScriptClientSearch (into .tools/node, gitignored; Node is on the machine).
# Safe to run again: it skips what is already there.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3  # the approved patched toolchain (see README)
cd "$(dirname "$0")/.."
GOBIN="$(go env GOPATH)/bin"
export PATH="$GOBIN:$PATH"

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "tools: chromium is missing and this is not root; the browser test will skip (or fail under CI=true)" >&2
  fi
fi
if ! command -v aws-lambda-rie >/dev/null 2>&1; then
  # No release tags exist; this pseudo-version is the one the tests were written against.
  go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
fi
if ! command -v mailpit >/dev/null 2>&1; then
  go install github.com/axllent/mailpit@v1.33.1  # the version docker-compose.yml runs
fi
if command -v npm >/dev/null 2>&1; then
  npm ls --prefix .tools/node @fusionauth/typescript-client@1.69.0 >/dev/null 2>&1 ||
    npm install --prefix .tools/node --no-audit --no-fund --save-exact @fusionauth/typescript-client@1.69.0 >/dev/null
else
  echo "tools: npm is missing; the official TypeScript client test will skip (or fail under CI=true)" >&2
fi
