#!/usr/bin/env bash
# Benchmark: the API on the embedded SQLite store, on loopback, with wrk
# (installed from Debian if missing): pledge creation, then Stripe-signed
# `checkout.session.completed` webhooks (each a distinct event for a distinct
# pending pledge, applied with its matching in one transaction).
#   benches/api.sh [SECONDS] [WEBHOOK_EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
events="${2:-120000}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --locked --quiet
work="$(mktemp -d)"
cp -r content "$work/"
# Room for the benchmark's money: the café's goal and cap, and its territory's
# maximum goal, are raised in this copy (no pledge is ever refused over the cap).
sed -i 's/^max_goal: 20000$/max_goal: 100000000/' "$work/content/territories/saint-etienne/_territory.md"
cafe="$work/content/territories/saint-etienne/projects/cafe-du-coin/index.md"
sed -i 's/^goal: 6000$/goal: 50000000/; s/^cap: 7500$/cap: 75000000/' "$cafe"
port=18097
./target/release/pave serve --content "$work/content" --out "$work/public" --db "$work/data/pave.sqlite" --port "$port" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done

echo "== POST /api/pledges (JSON, local test checkout), ${seconds}s, 2 threads, 16 connections"
wrk -t2 -c16 -d"${seconds}s" --latency -s benches/pledge.lua "http://127.0.0.1:$port/api/pledges" |
  grep -E "Requests/sec|Latency|50%|99%|Non-2xx"

echo "== POST /api/webhooks/stripe (signed checkout.session.completed), ${seconds}s, 2 threads, 16 connections"
python3 benches/webhook_events.py "$port" "$events" cafe-du-coin "$work/events.txt"
paid_before=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from pledges where status='paid'\").fetchone()[0])" "$work/data/pave.sqlite")
PAVE_BENCH_EVENTS="$work/events.txt" PAVE_BENCH_THREADS=2 \
  wrk -t2 -c16 -d"${seconds}s" --latency -s benches/webhook.lua "http://127.0.0.1:$port/" |
  grep -E "Requests/sec|Latency|50%|99%|Non-2xx|WARNING"
python3 - "$work/data/pave.sqlite" "$paid_before" "$seconds" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
paid = db.execute("select count(*) from pledges where status='paid'").fetchone()[0] - int(sys.argv[2])
matches = db.execute("select count(*) from matches").fetchone()[0]
print(f"pledges paid by the webhooks: {paid} ({paid / float(sys.argv[3]):.0f}/s), match records: {matches}")
PY
