#!/usr/bin/env bash
# Lints the GitHub workflows so they cannot rot (issue 17), and shows the lint has teeth:
#   1. actionlint passes on every workflow in .github/workflows/;
#   2. every `uses:` is pinned to a full 40-character commit SHA;
#   3. actionlint FAILS on broken copies of each workflow (an unknown key, a reference to a
#      step output that does not exist), and the pin check fails on a tag-pinned copy: if
#      either check let a broken workflow through, this script fails.
# .ci/run runs it. actionlint's shellcheck/pyflakes integrations are off so the result
# does not depend on what else is installed on the machine.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3  # the approved patched toolchain (see README)
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"
command -v actionlint >/dev/null 2>&1 || go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

lint() { actionlint -shellcheck= -pyflakes= "$@"; }

# unpinned FILE…: prints the `uses:` lines not pinned to a full commit SHA.
unpinned() {
  grep -HnE '^[[:space:]]*(-[[:space:]]+)?uses:' "$@" | grep -vE 'uses:[[:space:]]*[^@[:space:]]+@[0-9a-f]{40}([[:space:]]|$)' || true
}

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if [ "${#workflows[@]}" = 0 ]; then echo "lint-workflows: no workflow in .github/workflows/" >&2; exit 1; fi

lint "${workflows[@]}"
bad="$(unpinned "${workflows[@]}")"
if [ -n "$bad" ]; then echo "lint-workflows: actions not pinned to a full commit SHA:"; echo "$bad"; exit 1; fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/.github/workflows"
for wf in "${workflows[@]}"; do
  base="$(basename "$wf")"
  # An unknown key where GitHub expects runs-on.
  sed 's/runs-on:/runs-onn:/' "$wf" >"$tmp/.github/workflows/key-$base"
  # A step output that no step defines.
  printf '      - run: echo "${{ steps.no_such_step.outputs.nothing }}"\n' | cat "$wf" - >"$tmp/.github/workflows/ref-$base"
  for broken in "$tmp/.github/workflows/key-$base" "$tmp/.github/workflows/ref-$base"; do
    if lint "$broken" >/dev/null 2>&1; then
      echo "lint-workflows: actionlint accepted a broken copy of $wf ($(basename "$broken")): the lint has no teeth" >&2
      exit 1
    fi
  done
  # A tag instead of a SHA.
  sed -E 's/(uses:[[:space:]]*[^@[:space:]]+)@[0-9a-f]{40}/\1@v1/' "$wf" >"$tmp/.github/workflows/tag-$base"
  if grep -q 'uses:' "$wf" && [ -z "$(unpinned "$tmp/.github/workflows/tag-$base")" ]; then
    echo "lint-workflows: the pin check accepted a tag-pinned copy of $wf" >&2
    exit 1
  fi
done
echo "lint-workflows: ${#workflows[@]} workflow(s) pass; their broken copies fail as they must"
