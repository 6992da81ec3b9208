"""A Lambda worker in a process of its own, so that a test can kill it with SIGKILL.

Usage: python -m tests.e2e.faults.worker_process < event.json  (settings and endpoints from the env)
"""

from __future__ import annotations

import json
import sys

from chalice.local import LambdaContext

from tests.e2e.conftest import load_app


def main() -> None:
    event = json.load(sys.stdin)
    app = load_app().app
    context = LambdaContext("on_object_created", memory_size=256, max_runtime_ms=60_000)
    print(json.dumps(app.handler_map["on_object_created"](event, context)))


if __name__ == "__main__":
    main()
