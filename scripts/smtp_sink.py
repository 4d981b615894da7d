#!/usr/bin/env python3
"""A local SMTP sink for the tests: accepts every message, keeps none.

Usage: .venv/bin/python scripts/smtp_sink.py OUTDIR

Binds 127.0.0.1 on a free port chosen by the system, prints `PORT <n>` on
stdout as one line once it listens, and writes each message it receives to
OUTDIR/<n>.json (n = 1, 2, ...; written to a temporary name, then renamed, so
a reader never sees half a file):

    {"mail_from": "...", "rcpt_tos": ["..."], "subject": "...",
     "content_type": "text/plain; charset=utf-8", "text": "<decoded body>",
     "raw": "<the message as received>"}

With SMTP_SINK_DELAY_MS set, each message waits that long after its DATA
before the sink answers, and OUTDIR/<n>.receiving marks that message n is
being received: a test can kill the client while a message is in flight.
A message whose client hung up before the answer is not accepted (not
written), as a real server would not take responsibility for it.

It serves until its parent process dies (a thread polls os.getppid() and
leaves with os._exit), so a test that spawns it never leaves it behind.
"""

import asyncio
import email
import email.policy
import json
import os
import sys
import threading
import time

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, outdir, delay):
        self.outdir = outdir
        self.delay = delay
        self.count = 0
        self.started = 0

    async def handle_DATA(self, server, session, envelope):
        self.started += 1
        open(os.path.join(self.outdir, f"{self.started}.receiving"), "w").close()
        if self.delay:
            await asyncio.sleep(self.delay)
            if server.transport is None or server.transport.is_closing():
                return "421 the client hung up"
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        raw_text = raw.decode("utf-8", errors="replace")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body is not None else ""
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "subject": str(message.get("Subject", "")),
            "content_type": str(message.get("Content-Type", "")),
            "text": text,
            "raw": raw_text,
        }
        path = os.path.join(self.outdir, f"{self.count}.json")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(tmp, path)
        return "250 Message accepted for delivery"


def watch_parent():
    parent = os.getppid()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


async def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    delay = int(os.environ.get("SMTP_SINK_DELAY_MS", "0")) / 1000
    handler = Sink(outdir, delay)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, enable_SMTPUTF8=True), host="127.0.0.1", port=0
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    threading.Thread(target=watch_parent, daemon=True).start()
    asyncio.run(main(sys.argv[1]))
