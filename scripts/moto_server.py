#!/usr/bin/env python3
"""moto as a local AWS (DynamoDB, S3) for the tests, single-threaded.

Usage: .venv/bin/python scripts/moto_server.py [PORT]

Binds 127.0.0.1 on PORT (default 0: a free port chosen by the system), prints
`PORT <n>` on stdout as one line once it listens, and serves until its parent
process dies (a thread polls os.getppid() and leaves with os._exit), so a test
binary that spawns it never leaves it behind.

Why single-threaded: moto's stock server (`moto_server`, `ThreadedMotoServer`)
handles each request in its own thread, and moto does not serialise concurrent
conditional writes to one item: 20 parallel conditional spends against a
budget with room for 5 were all checked before any was written, and 6 were
acknowledged. DynamoDB itself checks and writes each item atomically; one
request at a time gives the same guarantee here. It also means HTTP/1.0
(werkzeug's choice for a single-threaded server): no keep-alive connection
can hold the only thread.
"""

import os
import sys
import threading
import time

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server


def exit_with_parent(parent: int) -> None:
    """Ends the process as soon as the parent that started it is gone."""
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    parent = os.getppid()
    if parent == 1:
        # Started by a process that is already gone (re-parented to init).
        os._exit(0)
    threading.Thread(target=exit_with_parent, args=(parent,), daemon=True).start()

    # Room for many clients connecting at once while one request is served
    # (socketserver's default backlog of 5 drops their SYNs: 1 s stalls).
    BaseWSGIServer.request_queue_size = 1024
    app = DomainDispatcherApplication(create_backend_app)
    # `run_simple(threaded=False)` is this same server; make_server gives us
    # the port the system chose before serving.
    server = make_server(
        "127.0.0.1",
        port,
        app,
        threaded=False,
        processes=1,
        request_handler=MotoRequestHandler,
    )
    # moto builds some URLs (S3) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(server.server_port)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
