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

import copy
import os
import sys
import threading
import time
import types

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server


def journal_transactions() -> None:
    """Makes moto's TransactWriteItems cost what it writes, not the table size.

    moto backs up every table a transaction touches with copy.deepcopy, once
    per write, to restore it if the transaction is cancelled: on a table of a
    few thousand items that is ~100 ms per transaction. Here the backup is a
    journal of the items the transaction targets (their state before), put
    back on any failure; the table itself is no longer copied. Same
    semantics: all or nothing (requests are served one at a time).
    """
    real_deepcopy = copy.deepcopy

    def deepcopy(obj, memo=None):
        if isinstance(obj, Table):
            return obj  # the journal below does the rollback
        return real_deepcopy(obj, memo)

    dynamodb_models.copy = types.SimpleNamespace(deepcopy=deepcopy)
    transact = DynamoDBBackend.transact_write_items

    def targets(backend, transact_items):
        for entry in transact_items:
            op = next(iter(entry.values()), None)
            if not isinstance(op, dict) or op.get("TableName") not in backend.tables:
                continue
            table = backend.tables[op["TableName"]]
            key = op.get("Key")
            if key is None:
                attrs = op.get("Item") or {}
                names = [table.hash_key_attr, table.range_key_attr]
                key = {n: attrs[n] for n in names if n and n in attrs}
            try:
                hash_key, range_key = backend.get_keys_value(table, key)
            except Exception:
                continue  # an invalid key is never written
            yield table, hash_key, range_key

    def restore(table, hash_key, range_key, before):
        if before is None:
            table.delete_item(hash_key, range_key)
        elif range_key is not None:
            table.items[hash_key][range_key] = before
        else:
            table.items[hash_key] = before

    def transact_write_items(self, transact_items):
        journal = [
            (table, h, r, real_deepcopy(table.get_item(h, r)))
            for table, h, r in targets(self, transact_items)
        ]
        try:
            return transact(self, transact_items)
        except Exception:
            for table, h, r, before in reversed(journal):
                restore(table, h, r, before)
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


class QuietHandler(MotoRequestHandler):
    """No line on stderr per request."""

    def log_request(self, *args, **kwargs) -> None:
        pass


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
    journal_transactions()
    app = DomainDispatcherApplication(create_backend_app)
    # `run_simple(threaded=False)` is this same server; make_server gives us
    # the port the system chose before serving.
    server = make_server(
        "127.0.0.1",
        port,
        app,
        threaded=False,
        processes=1,
        request_handler=QuietHandler,
    )
    # moto builds some URLs (S3) from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(server.server_port)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
