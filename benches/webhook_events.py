#!/usr/bin/env python3
"""Prepares the webhook benchmark (benches/run): creates N pending pledges
through the API, then writes one Stripe-signed `checkout.session.completed`
event per pledge, one per line (`signature<TAB>body`), for benches/webhook.lua.

Usage: webhook_events.py PORT N PROJECT OUT
The local server's webhook secret is `whsec_local_<PORT>` (pave serve without
a Stripe key); events are signed exactly as Stripe signs them.
benches/figures.py imports `create_pledge` and `signed_event`.
"""
import hashlib
import hmac
import http.client
import json
import sys
import threading
import time


def secret_of(port: int) -> bytes:
    return f"whsec_local_{port}".encode()


def create_pledge(conn: http.client.HTTPConnection, project: str, email: str) -> str:
    """Creates a pending 10 € pledge through the API; returns its id."""
    body = json.dumps({"project": project, "amount": "10", "email": email, "lang": "fr"})
    conn.request("POST", "/api/pledges", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 201:
        sys.exit(f"pledge creation failed: {response.status} {data[:200]!r}")
    return json.loads(data)["pledge_id"]


def signed_event(secret: bytes, i: int, pledge: str, t: int) -> tuple[str, str]:
    """The `Stripe-Signature` header and the body of a `checkout.session.completed`
    event paying `pledge` (10 €), signed as Stripe signs them."""
    event = {
        "id": f"evt_bench_{i:07d}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": t,
        "livemode": False,
        "pending_webhooks": 1,
        "type": "checkout.session.completed",
        "data": {"object": {
            "id": f"cs_test_bench_{i:07d}",
            "object": "checkout.session",
            "mode": "payment",
            "status": "complete",
            "payment_status": "paid",
            "amount_total": 1000,
            "currency": "eur",
            "client_reference_id": pledge,
            "metadata": {"pledge_id": pledge},
            "payment_intent": f"pi_bench_{i:07d}",
        }},
    }
    body = json.dumps(event, separators=(",", ":"))
    mac = hmac.new(secret, f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}", body


def main() -> None:
    port, n, project, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    threads = 8
    pledges = []
    lock = threading.Lock()

    def create(count: int, worker: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(count):
            pledge = create_pledge(conn, project, f"bench{worker}-{i}@example.org")
            with lock:
                pledges.append(pledge)
        conn.close()

    started = time.time()
    workers = [threading.Thread(target=create, args=(n // threads, w)) for w in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(f"{len(pledges)} pending pledges created in {time.time() - started:.1f}s")

    secret, t = secret_of(port), int(time.time())
    with open(out, "w") as f:
        for i, pledge in enumerate(pledges):
            signature, body = signed_event(secret, i, pledge, t)
            f.write(f"{signature}\t{body}\n")


if __name__ == "__main__":
    main()
