"""A stand-in for the provincial 好差评 receiver, run as its own process by the delivery
tests: it takes ``POST /`` records (``{"key", "kind", "hall", "data"}``), appends each new
key to a JSON-lines ledger and answers 200 (also for a key it already has: that is how the
sender's retries stay harmless), and misbehaves on purpose:

    python -m tests.support.province PORT LEDGER [--fail-every N] [--slow-every N --slow-s S]

``--fail-every 3``: every third request answers 500 without taking it; ``--slow-every 4``:
every fourth request takes the record, then waits ``--slow-s`` before answering (the sender
times out and sends it again)."""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("ledger", type=Path)
    p.add_argument("--fail-every", type=int, default=0)
    p.add_argument("--slow-every", type=int, default=0)
    p.add_argument("--slow-s", type=float, default=0.0)
    args = p.parse_args()
    lock = threading.Lock()
    seen: set[str] = set()
    if args.ledger.exists():
        seen = {json.loads(line)["key"] for line in args.ledger.read_text().splitlines()}
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                count[0] += 1
                n = count[0]
            if args.fail_every and n % args.fail_every == 0:
                self.send_response(500)
                self.end_headers()
                return
            record = json.loads(body)
            with lock:
                if record["key"] not in seen:
                    seen.add(record["key"])
                    with args.ledger.open("a", encoding="utf-8") as f:
                        f.write(json.dumps(record, ensure_ascii=False) + "\n")
                        f.flush()
            if args.slow_every and n % args.slow_every == 0:
                time.sleep(args.slow_s)
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok":true}')

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
