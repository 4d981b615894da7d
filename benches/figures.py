#!/usr/bin/env python3
"""One project's figures after a pledge, through `pave serve` (benches/run,
measurement 2): K pledges on PROJECT paid one after the other by a signed
webhook; for each, the server's own timing of the re-render (its log line
"figures of … re-rendered … in X ms") and the time from the webhook's answer
until the project's page on disk has changed. Writes one line per pledge to
OUT: `render_ms end_to_end_ms`.

Usage: figures.py PORT PROJECT K PAGE SERVE_LOG OUT
"""
import hashlib
import http.client
import re
import sys
import time

from webhook_events import create_pledge, secret_of, signed_event

port, project, k, page, log, out = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                    sys.argv[4], sys.argv[5], sys.argv[6])
LINE = re.compile(r"figures of \d+ project\(s\) re-rendered: .* in ([\d.]+) ms")


def digest() -> str:
    with open(page, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def render_times() -> list[float]:
    with open(log, encoding="utf-8", errors="replace") as f:
        return [float(m.group(1)) for m in map(LINE.search, f) if m]


conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
secret = secret_of(port)
rows = []
for i in range(k):
    pledge = create_pledge(conn, project, f"figures-{i}@example.org")
    before, seen = digest(), len(render_times())
    signature, body = signed_event(secret, 10_000_000 + i, pledge, int(time.time()))
    conn.request("POST", "/api/webhooks/stripe", body,
                 {"Content-Type": "application/json", "Stripe-Signature": signature})
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"webhook refused: {response.status}")
    answered = time.perf_counter()
    deadline = answered + 10
    while digest() == before:
        if time.perf_counter() > deadline:
            sys.exit(f"{page} did not change within 10 s of pledge {i}")
        time.sleep(0.0005)
    end_to_end = (time.perf_counter() - answered) * 1000
    while len(render_times()) <= seen:  # the log line follows the write
        if time.perf_counter() > deadline:
            sys.exit(f"no re-render line in {log} for pledge {i}")
        time.sleep(0.001)
    rows.append((render_times()[-1], end_to_end))
    time.sleep(0.05)
with open(out, "w") as f:
    for render, end_to_end in rows:
        f.write(f"{render:.2f} {end_to_end:.2f}\n")
print(f"{k} pledges: render {sorted(r for r, _ in rows)[k // 2]:.1f} ms (median), "
      f"webhook → page {sorted(e for _, e in rows)[k // 2]:.1f} ms (median)")
