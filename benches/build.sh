#!/usr/bin/env bash
# Benchmark: full build of a synthetic site and the incremental re-render of
# one project's figures on it.
#   benches/build.sh [PROJECTS] [TERRITORIES]
set -euo pipefail
cd "$(dirname "$0")/.."
projects="${1:-10000}"
territories="${2:-100}"
cargo build --release --locked --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pave=./target/release/pave
$pave corpus "$work" --projects "$projects" --territories "$territories"
echo "corpus: $projects projects, $territories territories"
run() { /usr/bin/time -f "  %e s wall, %U s user, %S s sys, %M KB max RSS" "$@" 2>&1 | grep -E "pave build|wall"; }
echo "full build, empty output folder:"
run $pave build --content "$work/content" --out "$work/public" --today 2026-11-23
echo "full build again, nothing changed:"
run $pave build --content "$work/content" --out "$work/public" --today 2026-11-23
echo '{"version":1,"projects":{"projet-00042":{"raised":"30.00","backers":1,"pledges":1}}}' > "$work/progress.json"
echo "one project's figures re-rendered (--changed projet-00042):"
run $pave build --content "$work/content" --out "$work/public" --today 2026-11-23 --progress "$work/progress.json" --changed projet-00042
