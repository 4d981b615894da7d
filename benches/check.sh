#!/usr/bin/env bash
# Benchmark: `pave check` on a synthetic corpus (default 10,000 projects over
# 100 territories). Prints the median wall time of repeated runs.
#   benches/check.sh [PROJECTS] [TERRITORIES]
set -euo pipefail
cd "$(dirname "$0")/.."
projects="${1:-10000}"
territories="${2:-100}"
cargo build --release --locked --quiet
corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
./target/release/pave corpus "$corpus" --projects "$projects" --territories "$territories"
echo "corpus: $projects projects, $territories territories, $(du -sh "$corpus" | cut -f1)"
./target/release/pave check "$corpus/content" >/dev/null   # warm the page cache
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs 10 "./target/release/pave check $corpus/content"
else
  for _ in $(seq 10); do
    /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB max RSS" \
      ./target/release/pave check "$corpus/content" 2>&1 >/dev/null | tail -1
  done | sort -n | awk '{a[NR]=$0} END {print "median of " NR " runs: " a[int((NR+1)/2)]}'
fi
