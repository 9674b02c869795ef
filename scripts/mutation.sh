#!/usr/bin/env bash
# Mutation testing (issue 11): runs gremlins on every package in .ci/mutation-bars.txt
# with that package's own tests, then judges the results against the bars and the
# equivalent mutants in .ci/mutation-equivalent.txt (scripts/mutation/main.go). Fails when
# a package is below its bar or a surviving mutant is not listed as equivalent.
#
# Usage: scripts/mutation.sh [package …]     (default: every package in the bars file)
#
# Results go to $ARTIFACTS_DIR/mutation/ (default artifacts/mutation/): one gremlins JSON
# and log per package. A package in the bars file that does not exist yet is skipped with
# a message, except under CI=true, where it fails. .ci/run runs this after the tests
# (MUTATION=0 skips it).
set -euo pipefail
export GOTOOLCHAIN=go1.27.3  # the approved patched toolchain (see README)
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"
command -v gremlins >/dev/null 2>&1 || go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0

bars=.ci/mutation-bars.txt
out="${ARTIFACTS_DIR:-artifacts}/mutation"
mkdir -p "$out"
if [ "$#" -gt 0 ]; then
  pkgs=("$@")
else
  mapfile -t pkgs < <(grep -Ev '^[[:space:]]*(#|$)' "$bars" | awk '{print $1}')
fi

results=()
missing=()
for pkg in "${pkgs[@]}"; do
  if ! ls "$pkg"/*_test.go >/dev/null 2>&1; then
    missing+=("$pkg")
    echo "== mutation: skip $pkg: no such package with tests yet"
    continue
  fi
  name=${pkg//\//_}
  echo "== mutation: $pkg"
  start=$SECONDS
  # Workers 2 on a 2-core machine; the timeout coefficient keeps slow-but-passing test
  # runs from being counted as timed out (timeouts count neither way). gremlins walks the
  # directory tree, so -E '/' (paths are relative to the package) leaves subpackages such
  # as shared/faclient/fatest out: each package is measured with its own tests.
  # -count=1: gremlins times each mutant's tests against its first, coverage, run of
  # them; a cached result makes that run take no time, and every mutant then "times out"
  # (counted neither way, so survivors would go unseen).
  if ! GOFLAGS="${GOFLAGS:+$GOFLAGS }-count=1" gremlins unleash --workers 2 --timeout-coefficient 10 --exclude-files / -o "$out/$name.json" "./$pkg" >"$out/$name.log" 2>&1; then
    tail -n 20 "$out/$name.log"
    echo "mutation: gremlins failed on $pkg (log: $out/$name.log)" >&2
    exit 1
  fi
  echo "   $((SECONDS - start)) s; $(grep -E '^(Killed|Timed out)' "$out/$name.log" | tr '\n' ' ')"
  results+=("$pkg=$out/$name.json")
done

status=0
if [ "${#results[@]}" -gt 0 ]; then
  go run ./scripts/mutation -bars "$bars" -equivalent .ci/mutation-equivalent.txt "${results[@]}" || status=$?
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "mutation: packages in $bars do not exist: ${missing[*]} (remove them from the bars file or add them)" >&2
    exit 1
  fi
  echo "mutation: skipped (not measured): ${missing[*]}"
fi
exit "$status"
