#!/usr/bin/env bash
# Benchmark: pledge creation through the API on the embedded store, with wrk
# (installed from Debian if missing), on loopback, for 30 s.
#   benches/api.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --locked --quiet
work="$(mktemp -d)"
cp -r content "$work/"
port=18097
./target/release/pave serve --content "$work/content" --out "$work/public" --db "$work/data/pave.sqlite" --port "$port" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
echo "POST /api/pledges (JSON, local test checkout), ${seconds}s:"
wrk -t2 -c16 -d"${seconds}s" --latency -s benches/pledge.lua "http://127.0.0.1:$port/api/pledges" | grep -E "Requests/sec|Latency|50%|99%"
